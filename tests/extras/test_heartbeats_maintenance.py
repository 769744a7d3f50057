"""Heartbeats and maintenance windows, on the server's injected clock."""

from __future__ import annotations

from typing import Any

from server.integrations.kinds.heartbeat import HeartbeatMonitor
from tests.extras.conftest import MovableClock
from tests.server.conftest import InProcess

FLIC_ON = '"flic_nameId": "front-desk",\n"flic_state": "On",\n"info": "Front desk",\n'
FLIC_OFF = FLIC_ON.replace('"On"', '"Off"')


def monitor(app: InProcess) -> HeartbeatMonitor:
    found: HeartbeatMonitor = app.app.state.ctx.part(HeartbeatMonitor)
    return found


async def open_alerts(app: InProcess, integration_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await app.admin_get("/api/v1/alerts", integration_id=integration_id, status="open")
    )["items"]
    return found


async def make_heartbeat(app: InProcess, **body: Any) -> dict[str, Any]:
    answer = await app.client.post(
        "/api/v1/heartbeats",
        json={"name": "backup-job", "interval_s": 60, **body},
        headers=app.admin_headers,
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_a_missed_interval_opens_one_alert_and_the_next_ping_closes_it(
    app: InProcess, clock: MovableClock
) -> None:
    hb = await make_heartbeat(app, grace_s=10)
    assert (await app.client.get(hb["ping_path"])).status_code == 200
    clock.advance(65)
    await monitor(app).check()
    assert await open_alerts(app, hb["id"]) == []  # still inside the grace time

    clock.advance(10)
    await monitor(app).check()
    clock.advance(300)
    await monitor(app).check()  # still missing: no second alert
    (alert,) = await open_alerts(app, hb["id"])
    assert alert["title"] == "backup-job missed its heartbeat"
    shown = await app.admin_get(f"/api/v1/heartbeats/{hb['id']}")
    assert shown["state"] == "missed"

    pinged = await app.client.post(hb["ping_path"])
    assert pinged.json() == {"status": "ok", "closed_alert_id": alert["id"]}
    assert await open_alerts(app, hb["id"]) == []
    assert (await app.admin_get(f"/api/v1/heartbeats/{hb['id']}"))["state"] == "up"

    clock.advance(80)  # missed again: a new alert
    await monitor(app).check()
    assert len(await open_alerts(app, hb["id"])) == 1


async def test_a_heartbeat_never_pinged_is_missed_one_interval_after_creation(
    app: InProcess, clock: MovableClock
) -> None:
    hb = await make_heartbeat(app, interval_s=30)
    assert hb["state"] == "new"
    clock.advance(31)
    await monitor(app).check()
    assert len(await open_alerts(app, hb["id"])) == 1


async def test_ping_urls_refuse_unknown_tokens_and_bad_heartbeats_are_422(app: InProcess) -> None:
    flic = await app.add("desk")
    assert (await app.client.get(f"/ping/{flic['token']}")).status_code == 404
    assert (await app.client.get("/ping/nope")).status_code == 404
    bad = await app.client.post(
        "/api/v1/heartbeats", json={"name": "x", "interval_s": 0}, headers=app.admin_headers
    )
    assert bad.status_code == 422
    assert "interval_s" in bad.text


async def test_maintenance_window_suppresses_then_ends(app: InProcess, clock: MovableClock) -> None:
    desk = await app.add("desk")
    window = await app.client.post(
        f"/api/v1/integrations/{desk['id']}/maintenance",
        json={"duration_s": 3600, "reason": "moving the desk"},
        headers=app.admin_headers,
    )
    assert window.status_code == 201, window.text
    assert window.json()["active"] is True
    listed = await app.admin_get("/api/v1/maintenance", active="true")
    assert [w["reason"] for w in listed["items"]] == ["moving the desk"]

    inside = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    assert inside.json()["status"] == "suppressed"
    assert inside.json()["alert_id"] is None
    assert await open_alerts(app, desk["id"]) == []

    clock.advance(3600)
    after = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    assert (after.json()["status"], after.json()["action"]) == ("mapped", "open")
    log = (await app.admin_get("/api/v1/inbound", integration_id=desk["id"]))["items"]
    assert [m["status"] for m in reversed(log)] == ["suppressed", "mapped"]


async def test_a_close_still_closes_inside_a_window(app: InProcess, clock: MovableClock) -> None:
    desk = await app.add("desk")
    await app.client.post(desk["inbound_path"], content=FLIC_ON)
    start = clock.advance(1).isoformat()
    end = clock.at.replace(hour=23).isoformat()
    await app.client.post(
        f"/api/v1/integrations/{desk['id']}/maintenance",
        json={"start_at": start, "end_at": end, "reason": "cleaning"},
        headers=app.admin_headers,
    )
    closed = await app.client.post(desk["inbound_path"], content=FLIC_OFF)
    assert closed.json()["action"] == "close"


async def test_a_future_window_changes_nothing_until_it_starts_and_can_be_deleted(
    app: InProcess, clock: MovableClock
) -> None:
    desk = await app.add("desk")
    later = clock.at.replace(hour=12)
    made = await app.client.post(
        f"/api/v1/integrations/{desk['id']}/maintenance",
        json={"start_at": later.isoformat(), "duration_s": 600},
        headers=app.admin_headers,
    )
    assert made.json()["active"] is False
    now = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    assert now.json()["status"] == "mapped"
    path = f"/api/v1/integrations/{desk['id']}/maintenance/{made.json()['id']}"
    assert (await app.client.delete(path, headers=app.admin_headers)).status_code == 204
    assert (await app.client.get(path, headers=app.admin_headers)).status_code == 404


async def test_bad_windows_are_422_naming_the_problem(app: InProcess) -> None:
    desk = await app.add("desk")
    url = f"/api/v1/integrations/{desk['id']}/maintenance"
    naive = await app.client.post(
        url, json={"start_at": "2026-11-26T08:00:00", "duration_s": 60}, headers=app.admin_headers
    )
    assert naive.status_code == 422
    assert "start_at" in naive.text
    backwards = await app.client.post(
        url,
        json={"start_at": "2026-11-26T08:00:00Z", "end_at": "2026-11-26T07:00:00Z"},
        headers=app.admin_headers,
    )
    assert backwards.status_code == 422
    assert "after start_at" in backwards.text
    both = await app.client.post(url, json={"reason": "x"}, headers=app.admin_headers)
    assert both.status_code == 422
    missing = await app.client.post(
        "/api/v1/integrations/999/maintenance", json={"duration_s": 5}, headers=app.admin_headers
    )
    assert missing.status_code == 404


async def test_a_missed_heartbeat_inside_a_window_is_suppressed(
    app: InProcess, clock: MovableClock
) -> None:
    hb = await make_heartbeat(app)
    await app.client.post(
        f"/api/v1/integrations/{hb['id']}/maintenance",
        json={"duration_s": 7200, "reason": "backup server rebuild"},
        headers=app.admin_headers,
    )
    clock.advance(120)
    await monitor(app).check()
    assert await open_alerts(app, hb["id"]) == []
    log = (await app.admin_get("/api/v1/inbound", integration_id=hb["id"]))["items"]
    assert [m["status"] for m in log] == ["suppressed"]


async def test_window_changes_count_from_the_very_next_message(
    app: InProcess, clock: MovableClock
) -> None:
    """Adding, ending early and deleting a window each apply to the next message at once."""
    desk = await app.add("desk")
    windows = f"/api/v1/integrations/{desk['id']}/maintenance"
    assert (await app.client.post(desk["inbound_path"], content=FLIC_ON)).json()["action"] == "open"
    await app.client.post(desk["inbound_path"], content=FLIC_OFF)

    made = await app.client.post(windows, json={"duration_s": 600}, headers=app.admin_headers)
    inside = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    ended = await app.client.put(
        f"{windows}/{made.json()['id']}",
        json={"end_at": clock.advance(1).isoformat()},
        headers=app.admin_headers,
    )
    after_end = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    await app.client.post(desk["inbound_path"], content=FLIC_OFF)
    again = await app.client.post(windows, json={"duration_s": 600}, headers=app.admin_headers)
    inside_again = await app.client.post(desk["inbound_path"], content=FLIC_ON)
    deleted = await app.client.delete(f"{windows}/{again.json()['id']}", headers=app.admin_headers)
    after_delete = await app.client.post(desk["inbound_path"], content=FLIC_ON)

    assert (made.status_code, ended.status_code, deleted.status_code) == (201, 200, 204)
    assert inside.json()["status"] == "suppressed"
    assert (after_end.json()["status"], after_end.json()["action"]) == ("mapped", "open")
    assert inside_again.json()["status"] == "suppressed"
    assert (after_delete.json()["status"], after_delete.json()["action"]) == ("mapped", "open")
