"""The station board in headless Chromium against the real `alert-server` subprocess.

A real webhook press appears on the board within a second; the page's audio (counted through
a hook on `AudioContext`) rings while the alert is open and stops once it is acknowledged
from the board; a board link cannot close; a server restart shows the banner, then the board
is live again by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PHONE, admin_client, log_in, running_server, shot
from tests.e2e.programs import AlertServer
from tests.server.conftest import cli
from tests.support.procs import wait_until

pytestmark = pytest.mark.browser

# Counts every oscillator the page starts, and the frequencies it plays.
AUDIO_HOOK = """
window.__tones = [];
(function () {
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const osc = create.call(this);
    const start = osc.start.bind(osc);
    osc.start = function (...args) {
      window.__tones.push(osc.frequency.value);
      return start(...args);
    };
    return osc;
  };
})();
"""


def press(server: AlertServer, integration: dict[str, Any], name: str, state: str = "On") -> int:
    body = f'"flic_nameId": "{name}", "flic_state": "{state}", "info": "Room {name}",'
    answer = httpx.post(server.url + integration["inbound_path"], content=body, timeout=10)
    assert answer.status_code == 202, answer.text
    alert_id: int = answer.json()["alert_id"]
    return alert_id


def board_link(server: AlertServer) -> str:
    return cli("board-link", "--base-url", server.url, data_dir=server.data_dir).strip()


def tones(page: Page) -> int:
    return int(page.evaluate("window.__tones.length"))


def open_board(context: BrowserContext, server: AlertServer, every_s: int = 1) -> Page:
    """Open the board through a board link, with sound enabled by a tap."""
    context.add_init_script(AUDIO_HOOK)
    page = context.new_page()
    page.goto(board_link(server))
    assert page.url == server.url + "/board"
    page.goto(f"{server.url}/board?every={every_s}")
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    expect(page.locator("#summary")).to_contain_text("open")
    page.get_by_role("button", name="Tap to enable sound").click()
    expect(page.locator("#sound")).to_have_attribute("aria-pressed", "true")
    return page


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AlertServer]:
    with running_server(tmp_path) as srv:
        yield srv


def test_press_appears_within_a_second_rings_until_acknowledged_from_the_board(
    context: BrowserContext, server: AlertServer
) -> None:
    integration = server.add_flic_integration("ward-3")
    page = open_board(context, server)
    expect(page.locator("#empty")).to_be_visible()
    assert tones(page) == 0  # nothing open: silence

    alert_id = press(server, integration, "bed-12")
    row = page.locator(f'.alert[data-alert-id="{alert_id}"]')
    expect(row).to_be_visible(timeout=1000)  # the promise: within a second, no reload
    expect(row.locator(".title")).to_have_text("bed-12 pressed")
    expect(row.locator(".state")).to_have_text("open")
    expect(row.locator(".close")).to_be_hidden()  # a board link never closes
    expect(row.locator(".drill")).to_be_hidden()  # a real call, not a drill

    # the chime repeats while the alert is open (every second here, 10 s by default)
    wait_until(lambda: tones(page) >= 2, what="a first chime")
    first = tones(page)
    wait_until(lambda: tones(page) >= first + 2, what="the chime again")
    assert set(page.evaluate("window.__tones")) == {880, 660}  # the normal ding-dong
    age_before = row.locator(".age").inner_text()
    wait_until(lambda: row.locator(".age").inner_text() != age_before, what="the age to tick")

    row.get_by_role("button", name="Acknowledge").click()
    expect(row.locator(".state")).to_have_text("acknowledged")
    expect(row.get_by_role("button", name="Acknowledge")).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-sounding", "no")
    with admin_client(server) as admin:
        assert admin.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "acknowledged"
    silent_from = tones(page)
    page.wait_for_timeout(2500)  # two chime periods: nothing may sound
    assert tones(page) == silent_from

    # a second call rings again at once; the source's Off takes the first off the board
    second = press(server, integration, "bed-14")
    expect(page.locator(f'.alert[data-alert-id="{second}"]')).to_be_visible()
    wait_until(lambda: tones(page) > silent_from, what="the chime for the second call")
    press(server, integration, "bed-12", "Off")
    expect(row).to_have_count(0)
    expect(page.locator(".alert")).to_have_count(1)
    page.set_viewport_size(PHONE)
    shot(page, "board-phone")


def test_oldest_first_and_close_from_a_console_login(
    context: BrowserContext, server: AlertServer
) -> None:
    integration = server.add_flic_integration("ward-4")
    first = press(server, integration, "bed-1")
    second = press(server, integration, "bed-2")
    page = context.new_page()
    log_in(page, server, "/board")
    rows = page.locator(".alert")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-alert-id") for i in range(2)] == [
        str(first),
        str(second),
    ]
    row = page.locator(f'.alert[data-alert-id="{first}"]')
    row.get_by_role("button", name="Close").click()
    expect(row).to_have_count(0)
    with admin_client(server) as admin:
        assert admin.get(f"/api/v1/alerts/{first}").json()["status"] == "closed"
    shot(page, "board-desktop")


def test_board_survives_a_server_restart(browser: Browser, server: AlertServer) -> None:
    context = browser.new_context()
    try:
        integration = server.add_flic_integration("ward-5")
        page = open_board(context, server)
        banner = page.get_by_role("alert")
        expect(banner).to_be_hidden()

        server.stop()
        expect(banner).to_be_visible(timeout=15000)
        expect(banner).to_contain_text("Cannot reach the alert server")
        shot(page, "board-server-down")

        server.start()
        expect(banner).to_be_hidden(timeout=15000)
        alert_id = press(server, integration, "bed-7")
        expect(page.locator(f'.alert[data-alert-id="{alert_id}"]')).to_be_visible(timeout=5000)
    finally:
        context.close()


def test_urgent_goes_first_and_rings_its_own_chime(
    context: BrowserContext, server: AlertServer
) -> None:
    integration = server.add_flic_integration("ward-6")
    page = open_board(context, server)
    normal = press(server, integration, "bed-20")
    wait_until(lambda: tones(page) >= 2, what="the normal chime")
    assert set(page.evaluate("window.__tones")) == {880, 660}

    held = {"flic_nameId": "bed-21", "flic_state": "On", "priority": "urgent"}
    answer = httpx.post(server.url + integration["inbound_path"], json=held, timeout=10)
    urgent = answer.json()["alert_id"]
    rows = page.locator(".alert")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-alert-id", str(urgent))  # urgent, though newer
    expect(rows.first.locator(".prio")).to_have_text("urgent")
    expect(rows.nth(1)).to_have_attribute("data-alert-id", str(normal))
    expect(page.locator("body")).to_have_attribute("data-sounding", "urgent")
    wait_until(
        lambda: {1000, 1400} <= set(page.evaluate("window.__tones")), what="the urgent beeps"
    )
    shot(page, "board-urgent")
