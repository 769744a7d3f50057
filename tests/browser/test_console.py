"""The alert server's console in headless Chromium against the real `python -m server run`."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PHONE, admin_client, log_in, shot
from tests.e2e.programs import AlertServer

pytestmark = pytest.mark.browser


def flic_body(name: str, state: str = "On") -> str:
    """The body exactly as the Flic app guide has users type it."""
    return f'"flic_nameId": "{name}", "flic_state": "{state}", "info": "{name} button",'


def press(server: AlertServer, integration: dict[str, Any], name: str, state: str = "On") -> Any:
    answer = httpx.post(
        server.url + integration["inbound_path"], content=flic_body(name, state), timeout=10.0
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def alert_row(page: Page, alert_id: int) -> Any:
    return page.locator(f'tr[data-alert-id="{alert_id}"]')


def test_log_in_see_a_webhook_alert_and_acknowledge_it_from_the_page(
    console: Page, alert_server: AlertServer
) -> None:
    problems: list[str] = []
    console.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    console.on("pageerror", lambda e: problems.append(str(e)))
    integration = alert_server.add_flic_integration("lobby")
    first = press(alert_server, integration, "lobby-desk")
    again = press(alert_server, integration, "lobby-desk")
    assert (first["status"], again["status"]) == ("mapped", "mapped_appended")
    alert_id = first["alert_id"]

    console.reload()
    row = alert_row(console, alert_id)
    expect(row).to_contain_text("lobby-desk pressed")
    expect(row.locator('[data-label="Status"]')).to_have_text("open")
    expect(row.locator('[data-label="Appended"]')).to_have_text("1")
    expect(row.locator('[data-label="Source"]')).to_contain_text("lobby")
    expect(row.locator('[data-label="Age"]')).to_have_text(re.compile(r"^\d+ (s|min)$"))
    shot(console, "console-alerts-desktop")

    row.get_by_role("button", name="Acknowledge").click()
    console.wait_for_load_state()
    expect(alert_row(console, alert_id).locator('[data-label="Status"]')).to_have_text(
        "acknowledged"
    )
    with admin_client(alert_server) as api:
        seen = api.get(f"/api/v1/alerts/{alert_id}").json()
    assert seen["status"] == "acknowledged"
    assert seen["acknowledged_at"] is not None

    console.get_by_role("link", name="lobby-desk pressed").first.click()
    expect(console.locator("h1")).to_contain_text(f"#{alert_id} lobby-desk pressed")
    timeline = console.locator("ol.timeline li")
    expect(timeline).to_have_count(3)
    assert timeline.locator("b").all_inner_texts() == ["open", "append", "acknowledge"]
    expect(timeline.last).to_contain_text("acknowledged by admin (console)")
    shot(console, "console-alert-desktop")
    assert problems == []  # no script error, nothing the Content-Security-Policy blocked


def test_open_alerts_come_first_and_new_ones_appear_without_a_reload(
    console: Page, alert_server: AlertServer
) -> None:
    integration = alert_server.add_flic_integration("garage")
    older = press(alert_server, integration, "garage-a")["alert_id"]
    with admin_client(alert_server) as api:
        assert api.post(f"/api/v1/alerts/{older}/acknowledge").status_code == 200
    console.goto(alert_server.url + "/")
    expect(alert_row(console, older)).to_be_visible()

    newer = press(alert_server, integration, "garage-b")["alert_id"]
    # No reload: the page's short polling brings the new alert in.
    expect(alert_row(console, newer)).to_be_visible(timeout=15_000)
    ids = [
        int(i)
        for i in console.locator("tr[data-alert-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.alertId)"
        )
    ]
    assert ids.index(newer) < ids.index(older), ids  # open before acknowledged


def test_inbound_log_shows_a_mapped_appended_row_with_its_raw_body(
    console: Page, alert_server: AlertServer
) -> None:
    integration = alert_server.add_flic_integration("porch")
    press(alert_server, integration, "porch-bell")
    appended = press(alert_server, integration, "porch-bell")
    assert appended["status"] == "mapped_appended"

    console.goto(alert_server.url + "/inbound")
    console.get_by_label("Status").select_option(label="Mapped Appended")
    console.get_by_label("Integration").select_option(label="porch")
    console.get_by_role("button", name="Filter").click()
    console.wait_for_url(re.compile(r"status=mapped_appended"))
    rows = console.locator("table.inbound tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-label="Status"]')).to_have_text("Mapped Appended")
    expect(rows.first.locator('[data-label="Source"]')).to_have_text("porch-bell")
    shot(console, "console-inbound-desktop")

    rows.first.get_by_role("link", name="raw body").click()
    expect(console.locator("pre.raw")).to_have_text(flic_body("porch-bell"))
    expect(console.locator("h1")).to_contain_text("Mapped Appended")


def test_integration_page_shows_its_url_and_runs_the_sample_test(
    console: Page, alert_server: AlertServer
) -> None:
    console.goto(alert_server.url + "/integrations")
    console.get_by_label("Name").fill("shed")
    console.get_by_role("button", name="Create").click()
    console.wait_for_url(re.compile(r"/integrations/\d+$"))
    integration_id = int(console.url.rsplit("/", 1)[1])
    with admin_client(alert_server) as api:
        created = api.get(f"/api/v1/integrations/{integration_id}").json()
    url = console.locator("#inbound-url")
    expect(url).to_have_value(alert_server.url + created["inbound_path"])
    console.context.grant_permissions(["clipboard-read", "clipboard-write"])
    console.get_by_role("button", name="Copy").click()
    expect(console.get_by_role("button", name="Copied")).to_be_visible()
    assert console.evaluate("navigator.clipboard.readText()") == url.input_value()

    console.get_by_label(re.compile(r"^Payload")).fill(flic_body("shed-door"))
    console.get_by_role("button", name="Run test").click()
    result = console.locator("#test-result")
    expect(result).to_contain_text("Mapped")
    expect(result).to_contain_text("dry run")
    expect(result).to_contain_text("shed-door pressed")
    shot(console, "console-integration-desktop")

    # The URL shown is the one that works: post to it and an alert opens.
    answer = httpx.post(url.input_value(), content=flic_body("shed-door"), timeout=10.0)
    assert answer.json()["status"] == "mapped"

    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_role("button", name="Rotate token").click()
    expect(console.locator(".notice")).to_contain_text("New token")
    assert url.input_value() != alert_server.url + created["inbound_path"]
    assert httpx.post(url.input_value(), content=flic_body("x"), timeout=10.0).status_code == 202
    old = httpx.post(
        alert_server.url + created["inbound_path"], content=flic_body("x"), timeout=10.0
    )
    assert old.status_code == 404


def test_people_page_shows_who_is_on_call_now(console: Page, alert_server: AlertServer) -> None:
    with admin_client(alert_server) as api:
        user = api.post("/api/v1/users", json={"name": "Grace Hopper"}).json()
        schedule = api.post(
            "/api/v1/schedules",
            json={
                "name": "Night desk",
                "rotations": [{"users": [user["id"]], "start_date": "2020-01-01"}],
            },
        )
        assert schedule.status_code == 201, schedule.text
    console.goto(alert_server.url + "/people")
    expect(console.locator("#oncall")).to_contain_text("Night desk: Grace Hopper")
    shot(console, "console-people-desktop")

    console.get_by_role("link", name="Add").nth(2).click()  # Schedules → Add
    console.get_by_label(re.compile("as JSON")).fill('{"name": "Broken", "time_zone": "Mars/Base"}')
    console.get_by_role("button", name="Save").click()
    expect(console.locator(".error")).to_contain_text("Mars/Base")


def test_phone_screenshots_of_the_main_pages(browser: Browser, alert_server: AlertServer) -> None:
    integration = alert_server.add_flic_integration("phone-desk")
    press(alert_server, integration, "phone-desk")
    press(alert_server, integration, "phone-desk")
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        log_in(page, alert_server)
        expect(page.get_by_role("button", name="Acknowledge").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the alerts page scrolls sideways on a phone: {width}px"
        shot(page, "console-alerts-phone")
        page.goto(alert_server.url + "/inbound")
        shot(page, "console-inbound-phone")
        page.goto(alert_server.url + f"/integrations/{integration['id']}")
        shot(page, "console-integration-phone")
    finally:
        ctx.close()


def test_login_cookie_is_httponly_and_samesite_and_a_wrong_token_is_refused(
    context: BrowserContext, alert_server: AlertServer
) -> None:
    page = context.new_page()
    shown = page.goto(alert_server.url + "/")
    assert shown is not None
    assert shown.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Log in as admin").click()
    expect(page.locator(".error")).to_have_text("Wrong admin token.")
    assert not [c for c in context.cookies() if c["name"] == "console_session"]

    log_in(page, alert_server)
    (cookie,) = [c for c in context.cookies() if c["name"] == "console_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] in ("Lax", "Strict")
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it

    page.get_by_role("button", name="Log out").click()
    page.goto(alert_server.url + "/inbound")
    assert "/login" in page.url


def test_a_form_post_without_the_csrf_token_is_refused(
    console: Page, alert_server: AlertServer
) -> None:
    integration = alert_server.add_flic_integration("csrf-desk")
    alert_id = press(alert_server, integration, "csrf-desk")["alert_id"]
    # The browser's own cookies, but no token (or a wrong one): what a forged form would send.
    for form in ({}, {"csrf_token": "forged"}):
        answer = console.request.post(
            f"{alert_server.url}/alerts/{alert_id}/acknowledge", form=form, max_redirects=0
        )
        assert answer.status == 403, answer.text()
        assert "CSRF" in answer.text()
    created = console.request.post(
        f"{alert_server.url}/integrations", form={"name": "forged"}, max_redirects=0
    )
    assert created.status == 403
    with admin_client(alert_server) as api:
        assert api.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "open"
        names = [i["name"] for i in api.get("/api/v1/integrations").json()["items"]]
    assert "forged" not in names


def test_the_console_works_without_javascript(browser: Browser, alert_server: AlertServer) -> None:
    integration = alert_server.add_flic_integration("no-js-desk")
    alert_id = press(alert_server, integration, "no-js-desk")["alert_id"]
    ctx = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = ctx.new_page()
        log_in(page, alert_server)
        row = alert_row(page, alert_id)
        expect(row).to_contain_text("no-js-desk pressed")
        row.get_by_role("button", name="Close").click()
        page.wait_for_load_state()
        with admin_client(alert_server) as api:
            assert api.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "closed"
        expect(alert_row(page, alert_id)).to_have_count(0)  # closed alerts leave the default view
    finally:
        ctx.close()
