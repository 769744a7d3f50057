"""Console `/reports` in headless Chromium against the real server: table, charts, drills."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import PHONE, log_in, shot
from tests.e2e.programs import AlertServer

pytestmark = pytest.mark.browser


def seed(server: AlertServer, integration_id: int) -> None:
    """A week of calls written straight into the server's database (it runs WAL)."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    for day in range(1, 7):
        for n, (room, ack_s) in enumerate((("room-12", 40 * day), ("room-3", 25), ("bed-4", 600))):
            opened = now - timedelta(days=day, hours=n * 5)
            acked = opened + timedelta(seconds=ack_s)
            rows.append((room, opened, acked, acked + timedelta(seconds=90), 0))
    opened = now - timedelta(days=2)
    rows.append(
        ("room-12", opened, opened + timedelta(seconds=30), opened + timedelta(seconds=40), 1)
    )
    with sqlite3.connect(server.data_dir / "alert-server.db") as db:
        db.executemany(
            """INSERT INTO alerts (integration_id, source_name, source_id, status, title,
               opened_at, acknowledged_at, closed_at, updated_at, drill)
               VALUES (?, ?, '', 'closed', 'call', ?, ?, ?, ?, ?)""",
            [
                (
                    integration_id,
                    room,
                    o.isoformat(),
                    a.isoformat(),
                    c.isoformat(),
                    c.isoformat(),
                    d,
                )
                for room, o, a, c, d in rows
            ],
        )


def test_reports_show_the_table_three_charts_and_drills_with_nothing_from_outside(
    context: BrowserContext, alert_server: AlertServer
) -> None:
    integration = alert_server.add_flic_integration("ward-b")
    seed(alert_server, integration["id"])
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    log_in(page, alert_server, "/reports")

    table = page.locator("#report")
    expect(table.locator("tbody tr")).to_have_count(3)
    room_12 = table.locator("tr", has_text="room-12")
    expect(room_12.locator('[data-label="Calls"]')).to_have_text("6")  # the drill is apart
    expect(room_12.locator('[data-label="Slowest ack"]')).to_have_text("4m 00s")
    bed_4 = table.locator("tr", has_text="bed-4")
    expect(bed_4.locator('[data-label="Within target"]')).to_have_text("0%")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(3)
    expect(charts.nth(0)).to_have_attribute(
        "aria-label", "Median time to acknowledge, by hour of day"
    )
    expect(charts.nth(2).locator("text", has_text="bed-4")).to_have_count(1)  # slowest first
    expect(page.locator("#drills tr", has_text="room-12")).to_contain_text("30s")
    expect(page.locator("#drills tr", has_text="bed-4")).to_contain_text("never")
    shot(page, "console-reports-desktop")

    page.get_by_label("Group by").select_option("hour")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report thead")).to_contain_text("Hour")

    page.set_viewport_size(PHONE)
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    shot(page, "console-reports-phone")

    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("svg.chart").first).to_be_visible()
    outside = [u for u in requested if not u.startswith(alert_server.url)]
    assert outside == [], outside

    csv_link = page.locator("a", has_text="CSV").get_attribute("href")
    assert csv_link is not None
    with httpx.Client(base_url=alert_server.url) as client:
        assert client.get(csv_link).status_code == 401  # the API itself still wants the token


def test_a_bad_date_says_so_on_the_page(context: BrowserContext, alert_server: AlertServer) -> None:
    page = context.new_page()
    log_in(page, alert_server, "/reports")
    page.goto(alert_server.url + "/reports?from_date=2026-05-10&to_date=2026-05-01")
    expect(page.get_by_role("alert")).to_contain_text("is after to")
