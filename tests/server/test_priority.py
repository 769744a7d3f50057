"""Alert priority: set by the mapping, by the bridge's `priority` field, shown by the API."""

from __future__ import annotations

from typing import Any

import pytest

from server.inbound.mapping import as_text, lookup
from server.priority import PrioritySpec, priority_of
from tests.server.conftest import InProcess

GENERIC = {
    "source_name": {"field": "room"},
    "status": {"field": "state"},
    "open_when": {"equals": "on"},
    "close_when": {"equals": "off"},
    "title": "{{ room }}",
}


def text_at(payload: Any, path: tuple[str, ...]) -> str | None:
    return as_text(lookup(payload, path))


@pytest.mark.parametrize(
    ("spec", "payload", "expected"),
    [
        (None, {}, ("normal", "")),
        (None, {"priority": "urgent"}, ("urgent", "")),
        (None, {"priority": " High "}, ("high", "")),
        ("low", {"priority": "urgent"}, ("low", "")),
        ({"value": "urgent"}, {}, ("urgent", "")),
        (
            {"field": "click_type", "map": {"hold": "urgent"}},
            {"click_type": "hold"},
            ("urgent", ""),
        ),
        (
            {"field": "click_type", "map": {"hold": "urgent"}},
            {"click_type": "single"},
            ("normal", ""),
        ),
        ({"field": "a^p", "default": "high"}, {"a": {}}, ("high", "")),
        ({"field": "a^p"}, {"a": {"p": "low"}}, ("low", "")),
    ],
)
def test_priority_rules(spec: Any, payload: Any, expected: tuple[str, str]) -> None:
    rule = None if spec is None else PrioritySpec.model_validate(spec)
    assert priority_of(rule, payload, text_at) == expected


def test_a_value_that_is_no_priority_is_the_default_with_a_note() -> None:
    priority, note = priority_of(None, {"priority": "P1"}, text_at)
    assert priority == "normal"
    assert "'P1' is not one of urgent, high, normal, low" in note


@pytest.mark.parametrize(
    "bad",
    ["panic", {"field": "x", "value": "low"}, {"value": "low", "map": {"a": "high"}}, {}],
)
def test_a_bad_priority_rule_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"priority|value|field"):
        PrioritySpec.model_validate(bad)


async def post(inproc: InProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await inproc.client.post(path, json=body)
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_flic_integration_takes_the_bridges_priority(inproc: InProcess) -> None:
    path = (await inproc.add("ward"))["inbound_path"]
    held = await post(
        inproc, path, {"flic_nameId": "bed-1", "flic_state": "On", "priority": "urgent"}
    )
    plain = await post(inproc, path, {"flic_nameId": "bed-2", "flic_state": "On"})
    odd = await post(inproc, path, {"flic_nameId": "bed-3", "flic_state": "On", "priority": "P1"})

    urgent = await inproc.admin_get(f"/api/v1/alerts/{held['alert_id']}")
    assert urgent["priority"] == "urgent"
    assert (await inproc.admin_get(f"/api/v1/alerts/{plain['alert_id']}"))["priority"] == "normal"
    assert (await inproc.admin_get(f"/api/v1/alerts/{odd['alert_id']}"))["priority"] == "normal"
    logged = await inproc.admin_get(f"/api/v1/inbound/{odd['message_id']}")
    assert "'P1' is not one of" in logged["reason"]  # accepted, and the log says why normal


async def test_a_mapping_sets_priority_per_click_type(inproc: InProcess) -> None:
    mapping = {
        **GENERIC,
        "priority": {"field": "click", "map": {"hold": "urgent", "double": "low"}},
    }
    path = (await inproc.add("gen", kind="generic", mapping=mapping))["inbound_path"]
    hold = await post(inproc, path, {"room": "1", "state": "on", "click": "hold"})
    single = await post(inproc, path, {"room": "2", "state": "on", "click": "single"})
    listed = await inproc.admin_get("/api/v1/alerts", status="open")
    by_id = {a["id"]: a["priority"] for a in listed["items"]}
    assert by_id == {hold["alert_id"]: "urgent", single["alert_id"]: "normal"}


async def test_a_bad_priority_in_a_mapping_is_a_clear_422(inproc: InProcess) -> None:
    answer = await inproc.client.post(
        "/api/v1/integrations",
        json={"name": "bad", "kind": "generic", "mapping": {**GENERIC, "priority": "panic"}},
        headers=inproc.admin_headers,
    )
    assert answer.status_code == 422
    assert "priority" in answer.text
