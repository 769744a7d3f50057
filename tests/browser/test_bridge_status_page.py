"""The bridge's status page in headless Chromium against the real `python -m bridge run`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import PHONE, admin_client, shot
from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.support.procs import Proc, free_port, python_module, wait_http_ok

pytestmark = pytest.mark.browser

TOKEN = "status-page-token"
BUTTONS = [("80:e4:da:71:23:45", "front-desk"), ("80:e4:da:71:23:46", "back-door")]


@dataclass
class RunningBridge:
    url: str
    proc: Proc


@pytest.fixture(scope="module")
def bridge(
    tmp_path_factory: pytest.TempPathFactory, alert_server: AlertServer
) -> Iterator[RunningBridge]:
    """A bridge forwarding to the alert server, plus to a URL the server refuses (dead letters)."""
    integration = alert_server.add_flic_integration("bridge-desk")
    work: Path = tmp_path_factory.mktemp("bridge")
    port = free_port()
    lines = [
        "[bridge]",
        'name = "lobby-pi"',
        f'state_dir = "{work / "state"}"',
        f'listen = "127.0.0.1:{port}"',
        f'token = "{TOKEN}"',
        "[flicd]",
        "enabled = false",
        "[hub]",
        "enabled = true",
        "[[forward]]",
        'name = "alerts"',
        f'url = "{alert_server.url}{integration["inbound_path"]}"',
        "[[forward]]",
        'name = "retired"',
        f'url = "{alert_server.url}/inbound/no-such-token"',
    ]
    for address, name in BUTTONS:
        lines += ["[[button]]", f'address = "{address}"', f'name = "{name}"']
    config = work / "bridge.toml"
    config.write_text("\n".join(lines) + "\n")
    proc = Proc(
        python_module("bridge", "run", "--config", str(config)),
        log_path=work / "bridge.log",
        env=CLEAN_ENV,
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(url + "/healthz", proc=proc)
        yield RunningBridge(url, proc)
    finally:
        proc.stop()


def test_status_page_shows_buttons_and_outbox_and_a_test_press_reaches_the_server(
    context: BrowserContext, bridge: RunningBridge, alert_server: AlertServer
) -> None:
    page = context.new_page()
    page.goto(bridge.url + "/")
    expect(page.locator("header")).to_contain_text("lobby-pi")
    for address, name in BUTTONS:
        row = page.locator(f'tr[data-button="{name}"]')
        expect(row.locator('[data-label="Address"]')).to_have_text(address)
        expect(row.locator('[data-label="Last click"]')).to_have_text("never")
    expect(page.locator(".pending-count")).to_have_text("0 pending")

    # A wrong token presses nothing.
    page.locator("#press-form input.token").fill("wrong")
    page.locator('tr[data-button="front-desk"]').get_by_role("button", name="Press").click()
    expect(page.locator(".error")).to_contain_text("token")
    assert httpx.get(bridge.url + "/api/status").json()["buttons"][0]["last_click"] is None

    page.locator("#press-form input.token").fill(TOKEN)
    page.locator('tr[data-button="front-desk"]').get_by_role("button", name="Press").click()
    expect(page.locator(".notice")).to_contain_text("Pressed front-desk (single)")
    expect(page.locator('tr[data-button="front-desk"] [data-label="Last click"]')).to_contain_text(
        re.compile(r"single \d+ s ago")
    )

    # The whole chain: the press opened an alert on the server.
    def front_desk_alerts() -> list[object]:
        with admin_client(alert_server) as api:
            items = api.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
        return [a for a in items if a["source_name"] == "front-desk"]

    expect(page.locator(".dead tbody tr")).to_have_count(1, timeout=15_000)  # live refresh
    assert len(front_desk_alerts()) == 1
    dead = page.locator(".dead tbody tr").first
    expect(dead.locator('[data-label="Target"]')).to_have_text("retired")
    expect(dead.locator('[data-label="Error"]')).to_contain_text("404")
    expect(page.locator(".pending-count")).to_have_text("0 pending")
    shot(page, "bridge-status-desktop")

    # Retry is token-protected too; with the token the dead letter goes back in line.
    page.locator("form.retry input.token").fill(TOKEN)
    page.get_by_role("button", name="Retry dead letters").click()
    expect(page.locator(".notice")).to_contain_text("1 dead letter(s) sent back")


def test_outbox_retry_api_needs_the_bridge_token(bridge: RunningBridge) -> None:
    assert httpx.post(bridge.url + "/api/outbox/retry").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.post(bridge.url + "/api/outbox/retry", headers=wrong).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = httpx.post(bridge.url + "/api/outbox/retry", headers=auth, json={"target": "retired"})
    assert answer.status_code == 200
    assert set(answer.json()) == {"retried", "target"}
    bad = httpx.post(bridge.url + "/api/outbox/retry", headers=auth, content=b"[1]")
    assert bad.status_code == 422


def test_status_page_on_a_phone_without_javascript(browser: Browser, bridge: RunningBridge) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(bridge.url + "/")
        expect(page.locator('tr[data-button="back-door"]')).to_contain_text("80:e4:da:71:23:46")
        shot(page, "bridge-status-phone")
        # Without JavaScript the forms still work: a plain POST and a redirect back.
        page.locator("#press-form input.token").fill(TOKEN)
        page.locator('tr[data-button="back-door"]').get_by_role("button", name="Press").click()
        expect(page.locator(".notice")).to_contain_text("Pressed back-door")
    finally:
        ctx.close()
