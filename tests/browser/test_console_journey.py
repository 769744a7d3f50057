"""The console in headless Chromium with a real bridge, a real SMTP server and a user's password.

A press on the real `python -m bridge run` opens an alert that pages Alice by email; Alice logs
in with her password, sees the press's journey and acknowledges it: the timeline names her. An
admin adds a maintenance window from the integration page; a webhook during it shows as
"Suppressed" in the inbound log and opens no alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, shot
from tests.e2e.programs import CLEAN_ENV
from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import Mailbox, smtp_server
from tests.support.clocked_server import CLOCK_FILE_ENV
from tests.support.procs import (
    Proc,
    free_port,
    start_bridge,
    wait_until,
)

pytestmark = pytest.mark.browser

BRIDGE_TOKEN = "journey-bridge-token"
PASSWORD = "alice's long passphrase"


@dataclass
class Site:
    server: AlertServer
    box: Mailbox
    integration: dict[str, Any]
    bridge_url: str

    def admin_token(self) -> str:
        return (self.server.data_dir / "admin-token").read_text().strip()


def bridge_config(workdir: Path, port: int, forward: str) -> Path:
    path = workdir / "bridge.toml"
    path.write_text(
        f"""
[bridge]
name = "lobby-pi"
state_dir = "{workdir / "state"}"
listen = "127.0.0.1:{port}"
token = "{BRIDGE_TOKEN}"

[[forward]]
url = "{forward}"

[flicd]
enabled = false

[hub]
enabled = false

[[button]]
address = "80:e4:da:71:23:45"
name = "front-desk"
"""
    )
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("journey")
    with smtp_server() as (box, smtp_port):
        server = AlertServer(
            root / "data",
            root / "server.log",
            smtp_port,
            ClockFile(root / "clock"),
            extra_env={CLOCK_FILE_ENV: ""},  # pages on real time
        )
        server.start()
        bridge: Proc | None = None
        try:
            alice = server.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
            with server.admin() as admin:
                answer = admin.post(f"/api/v1/users/{alice}/password", json={"password": PASSWORD})
                assert answer.status_code == 204, answer.text
            policy = server.create(
                "/api/v1/escalation-policies",
                {"name": "desk", "steps": [{"after_s": 0, "notify": [{"user": alice}]}]},
            )
            with server.admin() as admin:
                made = admin.post(
                    "/api/v1/integrations",
                    json={"name": "Front desk", "kind": "flic", "escalation_policy_id": policy},
                )
            assert made.status_code == 201, made.text
            integration = made.json()
            port = free_port()
            workdir = root / "bridge"
            workdir.mkdir()
            config = bridge_config(workdir, port, server.url + integration["inbound_path"])
            url = f"http://127.0.0.1:{port}"
            bridge = start_bridge(config, workdir, url, CLEAN_ENV)
            yield Site(server, box, integration, url)
        finally:
            if bridge is not None:
                bridge.stop()
            server.stop()


def log_in_as(page: Page, site: Site, login: str, password: str) -> None:
    page.goto(site.server.url + "/")
    page.get_by_label("User name or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(site.server.url + "/")


def log_in_as_admin(page: Page, site: Site) -> None:
    page.goto(site.server.url + "/")
    page.get_by_label("Admin token").fill(site.admin_token())
    page.get_by_role("button", name="Log in as admin").click()
    page.wait_for_url(site.server.url + "/")


def open_alerts(site: Site, source: str) -> list[dict[str, Any]]:
    items = site.server.get("/api/v1/alerts?status=open")["items"]
    return [a for a in items if a["source_name"] == source]


def test_a_user_logs_in_with_a_password_sees_the_press_journey_and_acknowledges(
    context: BrowserContext, browser: Browser, site: Site
) -> None:
    pressed = httpx.post(
        site.bridge_url + "/api/press",
        json={"button": "front-desk", "click": "single"},
        headers={"Authorization": f"Bearer {BRIDGE_TOKEN}"},
        timeout=10,
    )
    assert pressed.status_code == 202, pressed.text
    (alert,) = wait_until(
        lambda: open_alerts(site, "front-desk"), timeout=20, what="the press opened an alert"
    )
    mail_to(site.box, "alice@example.org", 1)  # paged before Alice looks
    wait_until(
        lambda: site.server.get(f"/api/v1/alerts/{alert['id']}")["journey"]["paged"][0]["at"],
        timeout=20,
        what="the page recorded as sent",
    )

    page = context.new_page()
    page.goto(site.server.url + "/")
    page.get_by_label("User name or email").fill("alice@example.org")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator(".error")).to_contain_text("Wrong user name, email or password")
    log_in_as(page, site, "alice@example.org", PASSWORD)
    expect(page.locator("#who")).to_have_text("Alice")

    page.goto(f"{site.server.url}/alerts/{alert['id']}")
    steps = page.locator("#journey li")
    expect(steps.locator(".j-name")).to_have_text(
        [
            "Pressed (on the button)",
            "Received by the bridge",
            "Stored",
            "Delivered",
            "Received by the server",
            "Paged",
            "Acknowledged",
        ]
    )
    for i in range(6):  # every step up to the page has its time; acknowledged not yet
        expect(steps.nth(i).locator("time")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:"))
    expect(steps.nth(0)).to_contain_text("front-desk single")
    expect(steps.nth(1)).to_contain_text("lobby-pi")
    expect(steps.nth(3)).to_contain_text("delivered on attempt 1")
    expect(steps.nth(5)).to_contain_text("Alice by email (sent)")
    times = steps.locator("time").evaluate_all("els => els.slice(0, 6).map(e => e.dateTime)")
    assert times == sorted(times)  # in the order they happened
    expect(steps.nth(6).locator("time")).to_have_text("—")

    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.locator("h1 .badge")).to_have_text(re.compile("acknowledged", re.I))
    expect(page.locator(".timeline")).to_contain_text("acknowledged by Alice (console)")
    expect(steps.nth(6)).to_contain_text("acknowledged by Alice (console)")
    shown = site.server.get(f"/api/v1/alerts/{alert['id']}")
    assert shown["status"] == "acknowledged"
    assert shown["journey"]["acknowledged_by"] == "acknowledged by Alice (console)"
    shot(page, "console-journey-desktop")

    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        small = phone.new_page()
        log_in_as(small, site, "Alice", PASSWORD)
        small.goto(f"{site.server.url}/alerts/{alert['id']}")
        expect(small.locator("#journey li")).to_have_count(7)
        shot(small, "console-journey-phone")
    finally:
        phone.close()


def test_a_maintenance_window_made_on_the_page_suppresses_a_webhook(
    browser: Browser, site: Site
) -> None:
    integration_id = site.integration["id"]
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        page = ctx.new_page()
        log_in_as_admin(page, site)
        page.goto(f"{site.server.url}/integrations/{integration_id}")
        expect(page.locator("#maintenance")).to_contain_text("No maintenance windows")
        form = page.locator("form.window-form")
        form.get_by_label("Duration").fill("90")
        form.get_by_label("Reason").fill("Replacing the desk router")
        form.get_by_role("button", name="Add maintenance window").click()
        expect(page.locator(".notice")).to_have_text("Maintenance window added.")
        active = page.locator('ul[data-group="active"] li')
        expect(active).to_have_count(1)
        expect(active).to_contain_text("Replacing the desk router")
        with site.server.admin() as admin:  # one upcoming too, so the page shows both kinds
            later = admin.post(
                f"/api/v1/integrations/{integration_id}/maintenance",
                json={
                    "start_at": "2099-01-01T08:00:00Z",
                    "end_at": "2099-01-01T12:00:00Z",
                    "reason": "Yearly fire drill",
                },
            )
        assert later.status_code == 201, later.text
        page.reload()
        expect(page.locator('ul[data-group="upcoming"] li')).to_contain_text("Yearly fire drill")
        shot(page, "console-maintenance-desktop")

        answer = site.server.press(site.integration["inbound_path"], "side-door", "On")
        assert answer["status"] == "suppressed"
        page.goto(f"{site.server.url}/inbound")
        row = page.locator("tr[data-status='suppressed']")
        expect(row).to_have_count(1)
        expect(row.locator('[data-label="Status"]')).to_have_text("Suppressed")
        expect(page.locator("#maintenance-now")).to_contain_text("In maintenance: Front desk")
        page.goto(site.server.url + "/")
        expect(page.locator("#maintenance-now")).to_contain_text("Replacing the desk router")
        assert open_alerts(site, "side-door") == []

        phone = browser.new_context(viewport=PHONE, is_mobile=True)
        try:
            small = phone.new_page()
            log_in_as_admin(small, site)
            small.goto(f"{site.server.url}/integrations/{integration_id}#maintenance")
            expect(small.locator('ul[data-group="active"] li')).to_have_count(1)
            shot(small, "console-maintenance-phone")
        finally:
            phone.close()

        page.goto(f"{site.server.url}/integrations/{integration_id}")
        page.locator('ul[data-group="active"] li').get_by_role("button", name="End now").click()
        expect(page.locator(".notice")).to_have_text("Maintenance window ended.")
        expect(page.locator('ul[data-group="active"]')).to_have_count(0)
        expect(page.locator('ul[data-group="past"] li')).to_contain_text("Replacing the desk")
        windows = site.server.get(f"/api/v1/integrations/{integration_id}/maintenance")["items"]
        assert [w["active"] for w in windows] == [False, False]
    finally:
        ctx.close()
