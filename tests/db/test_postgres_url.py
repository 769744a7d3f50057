"""`[database] url`: parsed, checked at start against a real PostgreSQL, password never shown."""

from __future__ import annotations

import re

import pytest

from server.errors import ConfigError
from server.postgres.connect import DatabaseUnavailableError, check_database
from server.postgres.url import parse_database_url
from tests.support.postgres import PASSWORD, Postgres
from tests.support.procs import free_port


def test_empty_means_sqlite_and_a_url_is_read_with_its_parts() -> None:
    assert parse_database_url("") is None
    assert parse_database_url(None) is None
    url = parse_database_url("postgresql://flic:s%3Acret@db1:5433/alerts")
    assert url is not None
    assert (url.hosts, url.database, url.user, url.password) == (
        ("db1:5433",),
        "alerts",
        "flic",
        "s:cret",
    )
    assert url.redacted() == "postgresql://flic:***@db1:5433/alerts"
    assert "s:cret" not in repr(url)
    multi = parse_database_url("postgres://u@h1,h2:6000/db?target_session_attrs=read-write")
    assert multi is not None
    assert multi.where == "h1:5432,h2:6000/db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mysql://u:p@h/db", "scheme 'mysql' is not supported"),
        ("/var/lib/alerts.db", "scheme '(none)' is not supported"),
        ("postgresql://u:p@h:port/db", "not a URL"),
        ("postgresql:///db", "no host"),
        ("postgresql://u:p@h:5432/", "no database name"),
    ],
)
def test_a_bad_url_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_database_url(text)


def test_a_reachable_database_answers_with_its_version(postgres: Postgres) -> None:
    url = parse_database_url(postgres.url)
    assert url is not None
    assert check_database(url).split(".")[0].isdigit()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda u: u.replace(PASSWORD, "wrong-password"), "password authentication failed"),
        (lambda u: u.replace("/flic_edge", "/no_such_db"), 'database "no_such_db" does not exist'),
        (lambda u: u.rsplit(":", 1)[0] + f":{free_port()}/flic_edge", "Connection refused"),
    ],
)
def test_start_up_errors_name_the_host_and_the_reason_not_the_password(
    postgres: Postgres, change: object, reason: str
) -> None:
    assert callable(change)
    url = parse_database_url(change(postgres.url))
    assert url is not None
    with pytest.raises(DatabaseUnavailableError) as caught:
        check_database(url, timeout_s=5)
    message = str(caught.value)
    assert message.startswith(f"cannot use the PostgreSQL database at {url.where} (user flic): ")
    assert reason in message
    assert PASSWORD not in message
    assert "wrong-password" not in message
