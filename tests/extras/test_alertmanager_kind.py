"""Kind `alertmanager` in process: one alert per entry, tolerant of missing and unknown keys."""

from __future__ import annotations

from typing import Any

from server.integrations.kinds.alertmanager import labels_fingerprint, split_alerts
from tests.server.conftest import InProcess


def webhook(*alerts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "r", "alerts": list(alerts), **extra}


async def test_each_alert_is_its_own_and_resolved_closes_only_it(app: InProcess) -> None:
    am = await app.add("am", kind="alertmanager")
    db1 = {"status": "firing", "labels": {"alertname": "Disk", "i": "1"}, "fingerprint": "f1"}
    db2 = {"status": "firing", "labels": {"alertname": "Disk", "i": "2"}, "fingerprint": "f2"}
    first = await app.client.post(am["inbound_path"], json=webhook(db1, db2))
    assert first.status_code == 202
    assert [i["action"] for i in first.json()["items"]] == ["open", "open"]
    again = await app.client.post(am["inbound_path"], json=webhook(db1))
    assert again.json()["status"] == "mapped_appended"
    resolved = {**db2, "status": "resolved"}
    await app.client.post(am["inbound_path"], json=webhook(db1, resolved, status="resolved"))
    found = (await app.admin_get("/api/v1/alerts", integration_id=am["id"]))["items"]
    assert {a["source_name"]: a["status"] for a in found} == {"f1": "open", "f2": "closed"}


async def test_missing_optional_keys_and_unknown_keys_are_tolerated(app: InProcess) -> None:
    am = await app.add("am", kind="alertmanager")
    bare = {"status": "firing", "labels": {"alertname": "Bare"}, "someFutureKey": [1, 2]}
    answer = await app.client.post(
        am["inbound_path"], json={"alerts": [bare], "truncatedAlerts": 0, "newTopKey": {}}
    )
    assert answer.status_code == 202, answer.text
    (alert,) = (await app.admin_get("/api/v1/alerts", integration_id=am["id"]))["items"]
    assert alert["source_name"] == labels_fingerprint({"alertname": "Bare"})
    assert alert["title"] == "Bare"


async def test_a_body_that_is_not_a_webhook_is_422_and_logged(app: InProcess) -> None:
    am = await app.add("am", kind="alertmanager")
    for body in (b"{nope", b'{"alerts": {}}', b'{"alerts": []}'):
        answer = await app.client.post(
            am["inbound_path"], content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, body
        assert answer.json()["status"] == "mapping_failed"
    log = (await app.admin_get("/api/v1/inbound", integration_id=am["id"]))["items"]
    assert [m["status"] for m in log] == ["mapping_failed"] * 3


async def test_a_non_object_entry_fails_alone(app: InProcess) -> None:
    am = await app.add("am", kind="alertmanager")
    good = {"status": "firing", "labels": {"alertname": "Ok"}, "fingerprint": "ok"}
    answer = await app.client.post(am["inbound_path"], json={"alerts": ["junk", good]})
    assert [i["status"] for i in answer.json()["items"]] == ["mapping_failed", "mapped"]


def test_the_labels_hash_does_not_depend_on_key_order() -> None:
    assert labels_fingerprint({"a": "1", "b": "2"}) == labels_fingerprint({"b": "2", "a": "1"})
    split = split_alerts({"alerts": [{"labels": {"a": "1"}}], "status": "firing"})
    assert isinstance(split, list)
    assert split[0]["status"] == "firing"  # the group's status stands in for a missing one
