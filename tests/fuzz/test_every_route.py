"""Every route the OpenAPI fuzz cannot see (console pages, forms, the login), fuzzed logged in.

`test_server_openapi.py` drives every operation in the schema, with and without the admin
token; this drives every other route of the app with a real console session and its CSRF
token (and sometimes a wrong one), with path values and form fields drawn by hypothesis.
Together they reach every route; none may answer 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.browser.test_console_passwords import login_form
from tests.server.conftest import InProcess, in_process

EXAMPLES = 400
ON = '"flic_nameId": "desk", "flic_state": "On", "info": "Desk",'
FORM_FIELDS = [
    "name",
    "email",
    "kind",
    "mapping",
    "sample_data",
    "payload",
    "dry_run",
    "body",
    "send",
    "password",
    "confirm",
    "duration",
    "unit",
    "min",
    "start_at",
    "end_at",
    "reason",
    "back",
    "next",
    "login",
    "token",
    "escalation_policy_id",
    "contacts",
    "members",
    "steps",
]
texts = st.text(max_size=40) | st.sampled_from(["1", "0", "-1", "99999999999999999999", "{}", ""])
PATH_VALUES = {
    "kind": st.sampled_from(["users", "groups", "schedules", "escalation-policies"]) | texts,
    "action": st.sampled_from(["acknowledge", "close"]) | texts,
}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route, through included routers."""
    found: list[tuple[str, str]] = []

    def walk(items: list[Any], prefix: str) -> None:
        for route in items:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # FastAPI's lazily included router
                context = getattr(route, "include_context", None)
                walk(list(inner.routes), prefix + (getattr(context, "prefix", "") or ""))
            elif getattr(route, "methods", None):
                found.extend((m, prefix + route.path) for m in route.methods if m != "HEAD")

    walk(list(app.router.routes), "")
    return sorted(set(found))


def outside_the_schema(app: FastAPI) -> list[tuple[str, str]]:
    # The schema schemathesis reads (asking schemathesis would start a second lifespan).
    listed = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    return [r for r in routes(app) if r not in listed]


@contextlib.contextmanager
def logged_in(data_dir: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, InProcess, str]]:
    """The app with an integration, an alert and a user, and a console session as admin."""
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()

    async def start() -> tuple[InProcess, str]:
        app = await stack.enter_async_context(in_process(data_dir))
        made = await app.add("desk")
        await app.client.post(made["inbound_path"], content=ON)
        await app.client.post("/api/v1/users", json={"name": "Alice"}, headers=app.admin_headers)
        csrf = await login_form(app.client)
        answer = await app.client.post(
            "/login", data={"csrf_token": csrf, "token": app.ctx.admin_token}
        )
        assert answer.status_code == 303
        page = await app.client.get("/")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        return app, found.group(1)

    try:
        app, csrf = loop.run_until_complete(start())
        yield loop, app, csrf
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()


def test_the_console_routes_are_the_ones_outside_the_schema(tmp_path: Path) -> None:
    with logged_in(tmp_path / "data") as (_loop, app, _csrf):
        outside = outside_the_schema(app.app)
    paths = {path for _method, path in outside}
    assert {"/login", "/", "/integrations/{integration_id}", "/people/{kind}"} <= paths
    assert ("POST", "/v2/enqueue/") in outside  # PagerDuty's trailing-slash twin


def test_no_route_outside_the_schema_answers_5xx(tmp_path: Path) -> None:
    with logged_in(tmp_path / "data") as (loop, app, csrf):
        # Logging out would turn every later request into a redirect to the login page.
        targets = [t for t in outside_the_schema(app.app) if t != ("POST", "/logout")]
        failures: list[str] = []

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            target=st.sampled_from(targets),
            data=st.data(),
            fields=st.dictionaries(st.sampled_from(FORM_FIELDS), texts, max_size=6),
            good_csrf=st.booleans() | st.just(True),
        )
        def check(
            target: tuple[str, str], data: st.DataObject, fields: dict[str, str], good_csrf: bool
        ) -> None:
            method, template = target
            path = template
            for name in re.findall(r"\{(\w+)\}", template):
                value = data.draw(
                    PATH_VALUES.get(name, st.integers(-2, 3).map(str) | texts), label=name
                )
                path = path.replace("{" + name + "}", quote(value, safe="") or "x")
            form = {**fields, "csrf_token": csrf if good_csrf else "wrong"}
            if method == "GET":
                call = app.client.get(path, params=fields)
            elif template.startswith("/v2/"):
                call = app.client.post(path, content=json.dumps(fields))
            else:
                call = app.client.request(method, path, data=form)
            answer = loop.run_until_complete(call)
            if answer.status_code >= 500:
                failures.append(f"{method} {path} {form}: {answer.status_code} {answer.text[:200]}")

        check()
        health = loop.run_until_complete(app.client.get("/healthz"))
    assert failures == []
    assert health.json() == {"status": "ok"}
