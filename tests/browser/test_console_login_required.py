"""No console route shows or changes anything without a login (every route, found from the app)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import BrowserContext

from server.console import alerts, auth, inbound, integrations, people
from tests.browser.conftest import admin_client
from tests.e2e.programs import AlertServer

pytestmark = pytest.mark.browser

PUBLIC = {("GET", "/login"), ("POST", "/login")}


def console_routes() -> list[tuple[str, str]]:
    """Every (method, path template) the console serves."""
    found = []
    for module in (auth, alerts, inbound, integrations, people):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                found.append((method, route.path))
    return found


@pytest.fixture(scope="module")
def secrets(alert_server: AlertServer) -> dict[str, Any]:
    """Data that must stay hidden: an alert, a message, an integration token, a user."""
    integration = alert_server.add_flic_integration("hidden-desk")
    posted = httpx.post(
        alert_server.url + integration["inbound_path"],
        content='"flic_nameId": "secret-button", "flic_state": "On", "info": "vault",',
        timeout=10.0,
    ).json()
    with admin_client(alert_server) as api:
        user = api.post("/api/v1/users", json={"name": "Hidden Person"}).json()
    return {
        "integration": integration,
        "alert_id": posted["alert_id"],
        "message_id": posted["message_id"],
        "user_id": user["id"],
    }


def concrete(path: str, secrets: dict[str, Any]) -> str:
    values = {
        "alert_id": str(secrets["alert_id"]),
        "action": "acknowledge",
        "message_id": secrets["message_id"],
        "integration_id": str(secrets["integration"]["id"]),
        "kind": "users",
        "item_id": str(secrets["user_id"]),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def leaked(text: str, secrets: dict[str, Any]) -> list[str]:
    words = [
        "secret-button",
        "vault",
        "hidden-desk",
        "Hidden Person",
        secrets["integration"]["token"],
    ]
    return [w for w in words if w in text]


def test_the_route_list_covers_every_page() -> None:
    paths = {p for _, p in console_routes()}
    assert {
        "/",
        "/alerts/{alert_id}",
        "/inbound",
        "/integrations/{integration_id}",
        "/people",
    } <= paths


def test_without_login_every_console_route_redirects_to_login_and_changes_nothing(
    alert_server: AlertServer, secrets: dict[str, Any]
) -> None:
    checked = 0
    for method, template in console_routes():
        if (method, template) in PUBLIC:
            continue
        path = concrete(template, secrets)
        answer = httpx.request(
            method,
            alert_server.url + path,
            data={"csrf_token": "x", "name": "intruder", "body": "{}", "confirm": "yes"}
            if method == "POST"
            else None,
            timeout=10.0,
        )
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login"), (method, path)
        assert not leaked(answer.text, secrets), (method, path)
        checked += 1
    assert checked >= 15
    with admin_client(alert_server) as api:
        alert = api.get(f"/api/v1/alerts/{secrets['alert_id']}").json()
        integration = api.get(f"/api/v1/integrations/{secrets['integration']['id']}").json()
        names = [i["name"] for i in api.get("/api/v1/integrations").json()["items"]]
        users = api.get("/api/v1/users").json()["items"]
    assert alert["status"] == "open"
    assert integration["token"] == secrets["integration"]["token"]
    assert "intruder" not in names
    assert [u["name"] for u in users] == ["Hidden Person"]


def test_in_the_browser_every_page_without_login_shows_only_the_login_form(
    context: BrowserContext, alert_server: AlertServer, secrets: dict[str, Any]
) -> None:
    page = context.new_page()
    for method, template in console_routes():
        if method != "GET" or (method, template) in PUBLIC:
            continue
        page.goto(alert_server.url + concrete(template, secrets))
        assert "/login" in page.url, template
        assert page.get_by_label("Admin token").is_visible()
        assert not leaked(page.content(), secrets), template
    # The API the pages use is closed too.
    for path in ("/api/v1/alerts", "/api/v1/inbound", "/api/v1/integrations", "/api/v1/users"):
        assert httpx.get(alert_server.url + path, timeout=10.0).status_code == 401
