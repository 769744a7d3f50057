"""The inbound pipeline and admin API in-process (httpx.ASGITransport over `create_app`)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.alerts.events import AlertChange
from tests.server.conftest import InProcess, in_process

ON = '"flic_nameId": "desk", "flic_state": "On", "info": "Desk",'
OFF = '"flic_nameId": "desk", "flic_state": "Off", "info": "Desk",'


async def post(app: InProcess, path: str, body: str, **headers: str) -> dict[str, object]:
    answer = await app.client.post(path, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    result: dict[str, object] = answer.json()
    return result


async def test_an_acknowledged_alert_stays_matched(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    opened = await post(inproc, path, ON)
    ack = await inproc.client.post(
        f"/api/v1/alerts/{opened['alert_id']}/acknowledge", headers=inproc.admin_headers
    )
    assert ack.json()["status"] == "acknowledged"

    repeat = await post(inproc, path, ON)
    closed = await post(inproc, path, OFF)

    assert (repeat["status"], repeat["alert_id"]) == ("mapped_appended", opened["alert_id"])
    assert (closed["action"], closed["alert_id"]) == ("close", opened["alert_id"])
    detail = await inproc.admin_get(f"/api/v1/alerts/{opened['alert_id']}")
    assert [e["kind"] for e in detail["timeline"]] == ["open", "acknowledge", "append", "close"]
    assert detail["acknowledged_at"] is not None
    assert detail["closed_at"] is not None


async def test_subscribers_get_every_change_in_order_and_a_failing_one_harms_nothing(
    inproc: InProcess,
) -> None:
    seen: list[AlertChange] = []

    async def good(change: AlertChange) -> None:
        seen.append(change)

    async def bad(change: AlertChange) -> None:
        raise RuntimeError("subscriber bug")

    inproc.ctx.events.subscribe("bad", bad)
    inproc.ctx.events.subscribe("good", good)
    path = (await inproc.add())["inbound_path"]
    opened = await post(inproc, path, ON)
    await post(inproc, path, ON)
    await inproc.client.post(
        f"/api/v1/alerts/{opened['alert_id']}/acknowledge", headers=inproc.admin_headers
    )
    closed = await post(inproc, path, OFF)
    await inproc.ctx.events.drain()

    assert [(c.kind, c.status) for c in seen] == [
        ("open", "open"),
        ("append", "open"),
        ("acknowledge", "acknowledged"),
        ("close", "closed"),
    ]
    assert {c.alert_id for c in seen} == {opened["alert_id"]}
    assert seen[0].message_id == opened["message_id"]
    assert seen[2].message_id is None
    assert seen[3].message_id == closed["message_id"]
    assert seen[0].title == "desk pressed"
    assert seen[0].source_name == "desk"


async def test_a_batch_subscriber_gets_bursts_as_lists_in_commit_order(inproc: InProcess) -> None:
    batches: list[list[AlertChange]] = []
    calls = 0

    async def remember(changes: list[AlertChange]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("subscriber bug")  # logged; the next changes still arrive
        batches.append(changes)

    inproc.ctx.events.subscribe_batch("batch", remember)
    path = (await inproc.add())["inbound_path"]
    await post(inproc, path, ON.replace("desk", "lost"))
    await inproc.ctx.events.drain()
    bodies = [ON.replace("desk", f"room-{i}") for i in range(30)]
    answers = await asyncio.gather(*(post(inproc, path, body) for body in bodies))
    await inproc.ctx.events.drain()

    delivered = [change for batch in batches for change in batch]
    by_alert_id = sorted(range(30), key=lambda i: int(str(answers[i]["alert_id"])))
    assert [c.source_name for c in delivered] == [f"room-{i}" for i in by_alert_id]
    assert [c.alert_id for c in delivered] == sorted(c.alert_id for c in delivered)
    assert {c.kind for c in delivered} == {"open"}
    assert len(delivered) == 30
    assert len(batches) < 30  # a burst arrives in fewer calls than changes


async def test_a_bug_in_the_webhook_path_is_a_logged_500_and_stores_nothing(
    inproc: InProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = (await inproc.add())["inbound_path"]
    check = inproc.ctx.limiter.check

    def broken(integration_id: int) -> float:
        raise RuntimeError("limiter bug")

    monkeypatch.setattr(inproc.ctx.limiter, "check", broken)
    failed = await inproc.client.post(path, content=ON)
    monkeypatch.setattr(inproc.ctx.limiter, "check", check)
    fine = await post(inproc, path, ON)

    assert failed.status_code == 500
    assert "retry" in failed.json()["detail"]
    assert "limiter bug" in caplog.text
    assert path.rsplit("/", 1)[1] not in caplog.text  # the token stays out of the log
    log = await inproc.admin_get("/api/v1/inbound")
    assert [m["message_id"] for m in log["items"]] == [fine["message_id"]]


async def test_a_flood_gets_429_with_retry_after_and_others_are_untouched(tmp_path: Path) -> None:
    now_s = [100.0]
    env = {
        "ALERT_SERVER_SERVER_INBOUND_BURST": "3",
        "ALERT_SERVER_SERVER_INBOUND_RATE_PER_S": "0.5",
    }
    async with in_process(tmp_path, env, monotonic=lambda: now_s[0]) as app:
        flooded = (await app.add("flooded"))["inbound_path"]
        calm = (await app.add("calm"))["inbound_path"]
        answers = [await app.client.post(flooded, content=ON) for _ in range(4)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert answers[3].headers["Retry-After"] == "2"
        assert (await app.client.post(calm, content=ON)).status_code == 202
        now_s[0] += 2.0
        assert (await app.client.post(flooded, content=ON)).status_code == 202
        log = await app.admin_get("/api/v1/inbound")
        assert len(log["items"]) == 5


async def test_the_test_endpoint_dry_runs_by_default(inproc: InProcess) -> None:
    integration = await inproc.add("front desk")
    test_url = f"/api/v1/integrations/{integration['id']}/test"

    dry = (await inproc.client.post(test_url, headers=inproc.admin_headers)).json()
    assert (dry["dry_run"], dry["status"], dry["action"]) == (True, "mapped", "open")
    assert dry["title"] == "front-desk pressed"
    assert (await inproc.admin_get("/api/v1/alerts"))["items"] == []
    assert (await inproc.admin_get("/api/v1/inbound"))["items"] == []

    real = await inproc.client.post(test_url, json={"dry_run": False}, headers=inproc.admin_headers)
    assert (real.json()["status"], real.json()["action"]) == ("mapped", "open")
    again = await inproc.client.post(
        test_url,
        json={"payload": {"flic_nameId": "front-desk", "flic_state": "On"}},
        headers=inproc.admin_headers,
    )
    assert again.json()["status"] == "mapped_appended"
    assert len((await inproc.admin_get("/api/v1/alerts"))["items"]) == 1


async def test_a_generic_integration_maps_nested_fields(inproc: InProcess) -> None:
    refused = await inproc.client.post(
        "/api/v1/integrations", json={"name": "x", "kind": "generic"}, headers=inproc.admin_headers
    )
    assert refused.status_code == 422
    assert "needs a mapping" in refused.text
    mapping = {
        "source_name": {"field": "alerts^0^labels^host"},
        "source_id": {"field": "alerts^0^labels^check"},
        "status": {"field": "alerts^0^status"},
        "open_when": {"regex": "^(firing|critical)$"},
        "close_when": {"equals": "resolved"},
        "title": "{{ alerts[0].labels.check }} on {{ source_name }}",
        "filters": [{"field": "env", "regex": "^test$", "keep": False}],
    }
    path = (await inproc.add("monitor", kind="generic", mapping=mapping))["inbound_path"]

    def body(status: str, check: str, env: str = "prod") -> str:
        alert = {"status": status, "labels": {"host": "db1", "check": check}}
        return json.dumps({"env": env, "alerts": [alert]})

    disk = await post(inproc, path, body("firing", "disk"))
    load = await post(inproc, path, body("critical", "load"))
    dropped = await post(inproc, path, body("firing", "disk", env="test"))
    resolved = await post(inproc, path, body("resolved", "disk"))
    assert (disk["action"], load["action"]) == ("open", "open")
    assert disk["alert_id"] != load["alert_id"]
    assert dropped["status"] == "filtered"
    assert (resolved["action"], resolved["alert_id"]) == ("close", disk["alert_id"])
    title = (await inproc.admin_get(f"/api/v1/alerts/{disk['alert_id']}"))["title"]
    assert title == "disk on db1"


async def test_an_invalid_mapping_is_refused_with_the_reason(inproc: InProcess) -> None:
    bad = {
        "source_name": {"field": "a"},
        "status": {"field": "b"},
        "open_when": {"regex": "(unclosed"},
    }
    answer = await inproc.client.post(
        "/api/v1/integrations",
        json={"name": "x", "kind": "generic", "mapping": bad},
        headers=inproc.admin_headers,
    )
    assert answer.status_code == 422
    assert "invalid regex" in answer.text


async def test_a_missing_field_is_mapping_failed_but_accepted(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    answer = await post(inproc, path, '{"flic_state": "On"}')
    assert (answer["status"], answer["action"]) == ("mapping_failed", "none")
    assert "flic_nameId is missing" in str(answer["detail"])


async def test_a_maintenance_window_suppresses_opens_but_lets_closes_close(
    inproc: InProcess,
) -> None:
    integration = await inproc.add()
    before = await post(inproc, integration["inbound_path"], ON)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    patched = await inproc.client.patch(
        f"/api/v1/integrations/{integration['id']}",
        json={"maintenance_until": until},
        headers=inproc.admin_headers,
    )
    assert patched.status_code == 200, patched.text
    repeat = await post(inproc, integration["inbound_path"], ON)
    closed = await post(inproc, integration["inbound_path"], OFF)
    reopened = await post(inproc, integration["inbound_path"], ON)
    assert (repeat["status"], repeat["action"], repeat["alert_id"]) == ("suppressed", "none", None)
    assert (closed["action"], closed["alert_id"]) == ("close", before["alert_id"])
    assert (reopened["status"], reopened["alert_id"]) == ("suppressed", None)
    alerts = (await inproc.admin_get("/api/v1/alerts"))["items"]
    assert [(a["id"], a["status"]) for a in alerts] == [(before["alert_id"], "closed")]


async def test_a_deleted_integration_stops_accepting_but_keeps_its_log(inproc: InProcess) -> None:
    integration = await inproc.add()
    await post(inproc, integration["inbound_path"], ON)
    gone = await inproc.client.delete(
        f"/api/v1/integrations/{integration['id']}", headers=inproc.admin_headers
    )
    assert gone.status_code == 204
    assert (await inproc.client.post(integration["inbound_path"], content=ON)).status_code == 404
    assert (await inproc.admin_get("/api/v1/integrations"))["items"] == []
    assert len((await inproc.admin_get("/api/v1/inbound"))["items"]) == 1


async def test_alert_actions_refuse_impossible_changes(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    opened = await post(inproc, path, ON)
    base = f"/api/v1/alerts/{opened['alert_id']}"
    h = inproc.admin_headers
    assert (await inproc.client.post(base + "/close", headers=h)).json()["status"] == "closed"
    again = await inproc.client.post(base + "/close", headers=h)
    assert again.status_code == 409
    assert "already closed" in again.json()["detail"]
    assert (await inproc.client.post(base + "/acknowledge", headers=h)).status_code == 409
    assert (await inproc.client.post("/api/v1/alerts/999/close", headers=h)).status_code == 404
    assert (await post(inproc, path, ON))["action"] == "open"


async def test_form_json_and_key_line_bodies_all_map(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    form = await inproc.client.post(
        path, data={"flic_nameId": "a", "flic_state": "On", "info": "form"}
    )
    json_body = await inproc.client.post(path, json={"flic_nameId": "b", "flic_state": "On"})
    braces = await inproc.client.post(
        path, content='{\n  "flic_nameId": "c",\n  "flic_state": "On",\n  "info": "x",\n}\n'
    )
    curly = await inproc.client.post(
        path,
        content="\u201cflic_nameId\u201d: \u201cd\u201d, \u201cflic_state\u201d: \u201cOn\u201d,",
    )
    assert [a.json()["action"] for a in (form, json_body, braces, curly)] == ["open"] * 4
    names = {a["source_name"] for a in (await inproc.admin_get("/api/v1/alerts"))["items"]}
    assert names == {"a", "b", "c", "d"}


async def test_metrics_count_inbound_messages_by_status(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    await post(inproc, path, ON)
    await post(inproc, path, ON)
    await inproc.client.post(path, content="???")
    text = (await inproc.client.get("/metrics")).text
    assert 'alert_server_inbound_messages_total{status="mapped"} 1' in text
    assert 'alert_server_inbound_messages_total{status="mapped_appended"} 1' in text
    assert 'alert_server_inbound_messages_total{status="mapping_failed"} 1' in text
    assert 'alert_server_alerts{status="open"} 1' in text
    assert (await inproc.client.get("/healthz")).json() == {"status": "ok"}


async def test_the_inbound_log_filters_and_pages(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    sent = [await post(inproc, path, body) for body in (ON, ON, OFF, OFF, "{}")]
    alert_id = sent[0]["alert_id"]

    page1 = (await inproc.admin_get("/api/v1/inbound", limit=2))["items"]
    page2 = (await inproc.admin_get("/api/v1/inbound", limit=2, before=page1[-1]["message_id"]))[
        "items"
    ]
    for_alert = (await inproc.admin_get("/api/v1/inbound", alert_id=alert_id))["items"]
    ignored = (await inproc.admin_get("/api/v1/inbound", status="mapped_ignored"))["items"]

    newest_first = [m["message_id"] for m in sent[::-1]]
    assert [m["message_id"] for m in page1 + page2] == newest_first[:4]
    assert [m["message_id"] for m in for_alert] == [m["message_id"] for m in sent[2::-1]]
    assert [m["message_id"] for m in ignored] == [sent[3]["message_id"]]
    bad = await inproc.client.get(
        "/api/v1/inbound", params={"status": "nope"}, headers=inproc.admin_headers
    )
    assert bad.status_code == 422


async def test_alertmanager_and_pagerduty_kinds_work_out_of_the_box(inproc: InProcess) -> None:
    am = (await inproc.add("prometheus", kind="alertmanager"))["inbound_path"]
    pd = (await inproc.add("pager", kind="pagerduty"))["inbound_path"]
    # Real bodies (the extras' kinds): Alertmanager webhook v4 alerts[], PagerDuty Events v2.
    alert = {"labels": {"alertname": "DiskFull"}, "fingerprint": "f1"}
    firing = await post(inproc, am, json.dumps({"alerts": [{**alert, "status": "firing"}]}))
    resolved = await post(inproc, am, json.dumps({"alerts": [{**alert, "status": "resolved"}]}))
    payload = {"summary": "Disk full on db1", "source": "db1", "severity": "critical"}
    event = {"routing_key": "k", "dedup_key": "db1-disk", "payload": payload}
    trigger = await post(inproc, pd, json.dumps({**event, "event_action": "trigger"}))
    resolve = await post(inproc, pd, json.dumps({**event, "event_action": "resolve"}))

    assert (firing["action"], resolved["action"]) == ("open", "close")
    assert (trigger["action"], resolve["action"]) == ("open", "close")
    titles = {a["title"] for a in (await inproc.admin_get("/api/v1/alerts"))["items"]}
    assert titles == {"DiskFull", "Disk full on db1"}
