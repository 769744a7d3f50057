"""Bridges report in: listed by `/api/v1/bridges`; silent too long opens `bridge:<name>`."""

from __future__ import annotations

from typing import Any

from server.alerts.events import AlertChange
from server.bridges.monitor import BridgeMonitor
from tests.server.conftest import InProcess

from .conftest import MovableClock


def monitor(app: InProcess) -> BridgeMonitor:
    found: BridgeMonitor = app.app.state.ctx.part(BridgeMonitor)
    return found


REPORT = {
    "name": "ward-3",
    "status": "ok",
    "buttons": [{"name": "bed-1", "connected": True, "battery": 80}],
    "outbox_pending": 2,
    "sources": [{"name": "flicd", "state": "connected"}],
}


async def post_report(app: InProcess, **changes: Any) -> dict[str, Any]:
    answer = await app.client.post(
        "/api/v1/bridges", json={**REPORT, **changes}, headers=app.admin_headers
    )
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def bridge_alerts(app: InProcess, status: str) -> list[dict[str, Any]]:
    items = (await app.admin_get("/api/v1/alerts", status=status))["items"]
    return [a for a in items if a["source_name"].startswith("bridge:")]


async def test_a_report_is_listed_with_its_health(app: InProcess, clock: MovableClock) -> None:
    await post_report(app)
    clock.advance(30)
    await post_report(app, outbox_pending=0, status="degraded")
    (listed,) = (await app.admin_get("/api/v1/bridges"))["items"]
    assert listed["name"] == "ward-3"
    assert listed["status"] == "degraded"
    assert listed["last_report_at"] == "2026-11-26T07:00:30Z"
    assert listed["buttons"] == [{"name": "bed-1", "connected": True, "battery": 80}]
    assert listed["outbox_pending"] == 0
    assert listed["report"]["sources"] == [{"name": "flicd", "state": "connected"}]


async def test_a_silent_bridge_opens_one_alert_and_its_next_report_closes_it(
    app: InProcess, clock: MovableClock
) -> None:
    changes: list[AlertChange] = []

    async def seen(change: AlertChange) -> None:
        changes.append(change)

    app.ctx.events.subscribe("test", seen)
    await post_report(app)
    clock.advance(119)
    assert await monitor(app).check() == []  # the default is 120 s
    clock.advance(1)
    (opened,) = await monitor(app).check()
    assert (opened.status, opened.action) == ("mapped", "open")
    clock.advance(600)
    assert await monitor(app).check() == []  # still silent: no second alert
    (alert,) = await bridge_alerts(app, "open")
    assert alert["source_name"] == "bridge:ward-3"
    assert alert["title"] == "Bridge ward-3 is silent"
    integration = await app.admin_get(f"/api/v1/integrations/{alert['integration_id']}")
    assert integration["name"] == "flic-bridges"  # give it a policy and it pages
    (listed,) = (await app.admin_get("/api/v1/bridges"))["items"]
    assert listed["status"] == "silent"
    # The alert went the normal inbound way: logged, and published to MQTT/escalation/board.
    logged = (await app.admin_get("/api/v1/inbound"))["items"]
    assert [m["source_name"] for m in logged] == ["bridge:ward-3"]

    await post_report(app)
    assert await bridge_alerts(app, "open") == []
    (closed,) = await bridge_alerts(app, "closed")
    assert closed["id"] == alert["id"]
    (listed,) = (await app.admin_get("/api/v1/bridges"))["items"]
    assert listed["status"] == "ok"
    assert [(c.alert_id, c.status) for c in changes] == [
        (alert["id"], "open"),
        (alert["id"], "closed"),
    ]

    clock.advance(121)  # silent again: a new alert
    await monitor(app).check()
    assert len(await bridge_alerts(app, "open")) == 1


async def test_reports_need_the_admin_token_and_a_readable_body(app: InProcess) -> None:
    answer = await app.client.post("/api/v1/bridges", json=REPORT)
    assert answer.status_code == 401
    for bad in ({"status": "ok"}, {"name": ""}, {"name": "x", "outbox_pending": -1}):
        answer = await app.client.post("/api/v1/bridges", json=bad, headers=app.admin_headers)
        assert answer.status_code == 422, bad
    assert (await app.admin_get("/api/v1/bridges"))["items"] == []
