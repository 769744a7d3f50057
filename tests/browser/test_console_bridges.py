"""The console's Bridges page in headless Chromium: every bridge with its last report."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client
from tests.e2e.programs import AlertServer

pytestmark = pytest.mark.browser


def test_the_bridges_page_lists_each_bridge_with_its_report(
    console: Page, alert_server: AlertServer
) -> None:
    with admin_client(alert_server) as client:
        for name, status, pending in (("ward-7", "ok", 0), ("lobby-2", "degraded", 4)):
            answer = client.post(
                "/api/v1/bridges",
                json={
                    "name": name,
                    "status": status,
                    "buttons": [{"name": f"{name}-bed", "connected": status == "ok"}],
                    "outbox_pending": pending,
                },
            )
            assert answer.status_code == 202, answer.text
    console.get_by_role("link", name="Bridges").click()
    console.wait_for_url(alert_server.url + "/bridges")
    lobby = console.locator("tr.bridge", has_text="lobby-2")
    expect(lobby.locator("td.status")).to_have_text("degraded")
    expect(lobby).to_contain_text("lobby-2-bed (not connected)")
    expect(lobby.locator('td[data-label="Outbox pending"]')).to_have_text("4")
    ward = console.locator("tr.bridge", has_text="ward-7")
    expect(ward.locator("td.status")).to_have_text("ok")
    expect(ward.locator('td[data-label="Last report"]')).to_contain_text("ago")
