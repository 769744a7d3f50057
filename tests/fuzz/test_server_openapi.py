"""schemathesis against the alert server's own OpenAPI, in process: no input yields a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from server.app import close_app, create_app
from server.config import Config, ServerSection

ADMIN_TOKEN = "fuzz-admin-token-0123456789"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    data_dir = tmp_path_factory.mktemp("openapi-fuzz")
    made = create_app(Config(server=ServerSection(data_dir=str(data_dir), admin_token=ADMIN_TOKEN)))
    yield made
    close_app(made)


def operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation: Any, *, authorized: bool) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if authorized else {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )

    check()


def test_the_schema_covers_the_inbound_and_admin_api(app: FastAPI) -> None:
    paths = {op.path for op in operations(app)}
    assert {"/inbound/{token}", "/api/v1/integrations", "/api/v1/alerts"} <= paths


def fuzz_all(app: FastAPI, *, authorized: bool) -> list[str]:
    """Every operation, each to its own end; the failures as `METHOD path: problem`."""
    failures = []
    for operation in operations(app):
        if not authorized and not operation.path.startswith("/api/"):
            continue
        try:
            fuzz(operation, authorized=authorized)
        except Exception as exc:  # a server exception surfaces here, as would a 5xx
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            failures.append(
                f"{operation.method.upper()} {operation.path}: {type(exc).__name__} {first}"
            )
    return failures


def test_no_generated_request_makes_the_server_fail(app: FastAPI) -> None:
    assert fuzz_all(app, authorized=True) == []


def test_no_unauthorized_request_makes_the_server_fail(app: FastAPI) -> None:
    assert fuzz_all(app, authorized=False) == []
