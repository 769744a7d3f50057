"""Suite-wide options and fixtures. Area fixtures live in each test folder's conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import Postgres, bin_dir, running_postgres


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hardware",
        action="store_true",
        default=False,
        help="run tests that need a real Bluetooth adapter or a real flicd",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--hardware"):
        return
    skip = pytest.mark.skip(reason="needs real hardware: pass --hardware")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Postgres]:
    """One real PostgreSQL for the session (Debian's binaries; run as `postgres` when root)."""
    if bin_dir() is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it as root (apt-get)")
    with running_postgres() as cluster:
        yield cluster


@pytest.fixture
def postgres(postgres_cluster: Postgres) -> Postgres:
    """The session's PostgreSQL with an empty `flic_edge` database for this test."""
    postgres_cluster.reset()
    return postgres_cluster


# Modules whose in-process tests run twice: on SQLite and on a real PostgreSQL (the store seam).
BOTH_ENGINES = {
    "test_inbound_app",
    "test_console_sessions",
    "test_priority",
    "test_close_from_source_only",
    "test_surrogates",
    "test_console_login_hardening",
    "test_heartbeats_maintenance",
    "test_pagerduty",
    "test_bridges_report",
    "test_response_times",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.module.__name__.split(".")[-1] in (
        BOTH_ENGINES
    ):
        metafunc.parametrize("engine", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that pick the database: none for SQLite, a fresh PostgreSQL database else."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return {}
    cluster = request.getfixturevalue("postgres")
    return {"ALERT_SERVER_DATABASE_URL": cluster.url}
