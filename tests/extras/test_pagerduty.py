"""Kind `pagerduty`: bodies from PagerDuty's Events API v2 examples, on both URLs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.integrations.kinds.pagerduty import parse_event
from tests.server.conftest import InProcess

# The trigger example from PagerDuty's Events API v2 documentation.
TRIGGER: dict[str, Any] = {
    "payload": {
        "summary": "Example alert on host1.example.com",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "severity": "info",
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats",
        "component": "postgres",
        "group": "prod-datapipe",
        "class": "deploy",
        "custom_details": {"ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": "samplekeyhere",
    "dedup_key": "samplekeyhere",
    "images": [
        {
            "src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
            "href": "https://example.com/",
            "alt": "Example text",
        }
    ],
    "links": [{"href": "https://example.com/", "text": "Link text"}],
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.service.com",
}
ACKNOWLEDGE = {
    "routing_key": "samplekeyhere",
    "dedup_key": "samplekeyhere",
    "event_action": "acknowledge",
}
RESOLVE = {"routing_key": "samplekeyhere", "dedup_key": "samplekeyhere", "event_action": "resolve"}


def keyed(body: dict[str, Any], routing_key: str) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out["routing_key"] = routing_key
    return out


async def alerts(app: InProcess, integration_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await app.admin_get("/api/v1/alerts", integration_id=integration_id)
    )["items"]
    return found


@pytest.mark.parametrize("via", ["inbound", "enqueue"])
async def test_trigger_duplicate_acknowledge_resolve(app: InProcess, via: str) -> None:
    pd = await app.add("pd", kind="pagerduty")
    url = pd["inbound_path"] if via == "inbound" else "/v2/enqueue"

    async def send(body: dict[str, Any]) -> dict[str, Any]:
        answer = await app.client.post(url, json=keyed(body, pd["token"]))
        assert answer.status_code == 202, answer.text
        found: dict[str, Any] = answer.json()
        assert found["status"] == "success"
        assert found["message"] == "Event processed"
        assert found["dedup_key"] == "samplekeyhere"
        return found

    first = await send(TRIGGER)
    assert first["inbound_status"] == "mapped"
    (alert,) = await alerts(app, pd["id"])
    assert alert["title"] == "Example alert on host1.example.com"
    assert alert["source_name"] == "samplekeyhere"
    journey = (await app.admin_get(f"/api/v1/alerts/{alert['id']}"))["journey"]
    assert journey["message_id"] == first["message_id"]
    assert journey["server_received_at"] is not None
    assert journey["pressed_at"] is None  # not a bridge: nothing to say about a press

    again = await send(TRIGGER)
    assert (again["inbound_status"], again["alert_id"]) == ("mapped_appended", alert["id"])

    acked = await send(ACKNOWLEDGE)
    assert (acked["inbound_status"], acked["action"]) == ("mapped", "acknowledge")
    assert acked["alert_id"] == alert["id"]
    (alert,) = await alerts(app, pd["id"])
    assert alert["status"] == "acknowledged"
    assert alert["append_count"] == 1

    closed = await send(RESOLVE)
    assert (closed["inbound_status"], closed["action"]) == ("mapped", "close")
    (alert,) = await alerts(app, pd["id"])
    assert alert["status"] == "closed"
    log = (await app.admin_get("/api/v1/inbound", integration_id=pd["id"]))["items"]
    # The acknowledge was logged as `mapped_ignored` with no alert before issue 15.
    assert [(m["status"], m["action"], m["alert_id"]) for m in reversed(log)] == [
        ("mapped", "open", alert["id"]),
        ("mapped_appended", "append", alert["id"]),
        ("mapped", "acknowledge", alert["id"]),
        ("mapped", "close", alert["id"]),
    ]


async def test_a_trigger_without_dedup_key_gets_one_that_resolves_it(app: InProcess) -> None:
    pd = await app.add("pd", kind="pagerduty")
    body = keyed(TRIGGER, pd["token"])
    del body["dedup_key"]
    answer = await app.client.post("/v2/enqueue", json=body)
    assert answer.status_code == 202, answer.text
    key = answer.json()["dedup_key"]
    assert key
    (alert,) = await alerts(app, pd["id"])
    assert alert["source_name"] == key

    second = await app.client.post("/v2/enqueue", json=body)
    assert second.json()["dedup_key"] != key  # each keyless trigger is its own incident
    assert len(await alerts(app, pd["id"])) == 2

    resolve = {"routing_key": pd["token"], "dedup_key": key, "event_action": "resolve"}
    done = await app.client.post("/v2/enqueue", json=resolve)
    assert done.json()["dedup_key"] == key
    statuses = sorted(a["status"] for a in await alerts(app, pd["id"]))
    assert statuses == ["closed", "open"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"event_action": "explode"}, "event_action"),
        ({"payload": {"source": "db1", "severity": "critical"}}, "payload.summary"),
        ({"payload": {"summary": "x", "source": "db1", "severity": "bad"}}, "payload.severity"),
        ({"payload": None}, "payload"),
        ({"routing_key": ""}, "routing_key"),
    ],
)
async def test_an_invalid_event_is_400_in_pagerduty_shape_and_logged(
    app: InProcess, change: dict[str, Any], named: str
) -> None:
    pd = await app.add("pd", kind="pagerduty")
    body = {**keyed(TRIGGER, pd["token"]), **change}
    answer = await app.client.post(pd["inbound_path"], json=body)
    assert answer.status_code == 400
    found = answer.json()
    assert found["status"] == "invalid event"
    assert found["message"] == "Event object is invalid"
    assert any(named in e for e in found["errors"]), found
    (logged,) = (await app.admin_get("/api/v1/inbound", integration_id=pd["id"]))["items"]
    assert logged["status"] == "mapping_failed"
    assert named in logged["reason"]
    assert await alerts(app, pd["id"]) == []


async def test_enqueue_refuses_unknown_routing_keys_and_non_json(app: InProcess) -> None:
    flic = await app.add("desk")  # a token, but not of a pagerduty integration
    answer = await app.client.post("/v2/enqueue", json=keyed(TRIGGER, flic["token"]))
    assert answer.status_code == 400
    assert "routing_key" in answer.json()["errors"][0]
    garbage = await app.client.post("/v2/enqueue", content=b"{not json")
    assert garbage.status_code == 400
    assert garbage.json()["status"] == "invalid event"


def test_acknowledge_and_resolve_need_a_dedup_key() -> None:
    found = parse_event({"routing_key": "k", "event_action": "resolve"}, "new")
    assert found == ["'dedup_key' is required for event_action resolve"]


async def test_a_repeated_idempotency_key_answers_the_first_generated_key(app: InProcess) -> None:
    pd = await app.add("pd", kind="pagerduty")
    body = keyed(TRIGGER, pd["token"])
    del body["dedup_key"]
    headers = {"Idempotency-Key": "retry-1"}
    first = await app.client.post("/v2/enqueue", json=body, headers=headers)
    again = await app.client.post("/v2/enqueue", json=body, headers=headers)
    assert again.json()["dedup_key"] == first.json()["dedup_key"]
    assert again.json()["alert_id"] == first.json()["alert_id"]
    assert len(await alerts(app, pd["id"])) == 1


async def test_acknowledge_without_an_alert_is_ignored_and_a_repeat_stays_linked(
    app: InProcess,
) -> None:
    pd = await app.add("pd", kind="pagerduty")
    early = await app.client.post("/v2/enqueue", json=keyed(ACKNOWLEDGE, pd["token"]))
    assert early.status_code == 202
    assert (early.json()["inbound_status"], early.json()["alert_id"]) == ("mapped_ignored", None)
    assert (
        "no open alert for 'samplekeyhere' to acknowledge"
        in (await app.admin_get(f"/api/v1/inbound/{early.json()['message_id']}"))["reason"]
    )

    await app.client.post("/v2/enqueue", json=keyed(TRIGGER, pd["token"]))
    first = (await app.client.post("/v2/enqueue", json=keyed(ACKNOWLEDGE, pd["token"]))).json()
    (alert,) = await alerts(app, pd["id"])
    acknowledged_at = alert["acknowledged_at"]
    again = (await app.client.post("/v2/enqueue", json=keyed(ACKNOWLEDGE, pd["token"]))).json()
    assert (again["inbound_status"], again["action"]) == ("mapped", "acknowledge")
    assert again["alert_id"] == first["alert_id"] == alert["id"]
    (alert,) = await alerts(app, pd["id"])
    assert (alert["status"], alert["acknowledged_at"]) == ("acknowledged", acknowledged_at)


async def test_an_invalid_change_event_is_400_in_pagerduty_shape(app: InProcess) -> None:
    pd = await app.add("pd", kind="pagerduty")
    body = {"routing_key": pd["token"], "payload": {"source": "ci"}}
    answer = await app.client.post("/v2/change/enqueue", json=body)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'payload.summary' is missing or blank"],
    }
    (logged,) = (await app.admin_get("/api/v1/inbound", integration_id=pd["id"]))["items"]
    assert logged["status"] == "mapping_failed"
    assert "payload.summary" in logged["reason"]
