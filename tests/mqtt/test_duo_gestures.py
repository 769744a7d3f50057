"""A Flic Duo's gestures reach Home Assistant: event types, device triggers, per-button topics."""

from __future__ import annotations

import asyncio
import json

import pytest

from bridge.app.wiring import discovery_button
from bridge.config import parse_config
from tests.mqtt.test_discovery import CTX, render, start_sink
from tests.support.mosquitto import Mosquitto, Recorder

pytestmark = pytest.mark.mqtt

GESTURES = ["swipe_left", "swipe_right", "swipe_up", "swipe_down"]
TURNS = ["twist_left", "twist_right", "push_twist_left", "push_twist_right", "selector_changed"]


async def test_duo_gestures_are_event_types_triggers_and_per_button_actions(
    broker: Mosquitto, recorder: Recorder
) -> None:
    config = parse_config(
        {
            "bridge": {"name": CTX.bridge_name},
            "button": [
                {
                    "address": "80:e4:da:71:23:46",
                    "name": "duo",
                    "on": ["swipe_up", "push_twist_right"],
                    "off": ["swipe_down"],
                }
            ],
        }
    )
    button = discovery_button(config.buttons[0])
    # Every gesture is offered whatever the mapping: Home Assistant may use the others.
    assert set(GESTURES + TURNS) <= set(button.click_types)
    sink = await start_sink(broker, [button])
    try:
        for number, kind in ((1, "swipe_up"), (0, "push_twist_right")):
            body = {
                "flic_nameId": "duo",
                "flic_state": "On",
                "click_type": kind,
                "button_number": number,
                "pressed_at": "2026-11-26T07:00:00.123Z",
            }
            await sink.deliver(body)
        await asyncio.to_thread(recorder.wait_for, "flic/duo/action", 2)
        await asyncio.to_thread(recorder.wait_for, "flic/duo/button_2/action", 1)
    finally:
        await sink.close()
    assert [m.text for m in recorder.messages("flic/duo/action")] == [
        "swipe_up",
        "push_twist_right",
    ]
    assert [m.text for m in recorder.messages("flic/duo/button_2/action")] == ["swipe_up"]
    assert [m.text for m in recorder.messages("flic/duo/button_1/action")] == ["push_twist_right"]
    configs = {
        m.topic: json.loads(m.payload)
        for m in recorder.messages()
        if m.topic.startswith("homeassistant/") and m.payload
    }
    event = configs["homeassistant/event/flic_edge_bridge-1/flic_80e4da712346_action/config"]
    assert set(GESTURES + TURNS) <= set(event["event_types"])
    assert json.loads(render(event["value_template"], b"swipe_up")) == {"event_type": "swipe_up"}
    triggers = {
        c["payload"]: c["type"] for c in configs.values() if c.get("automation_type") == "trigger"
    }
    assert triggers["swipe_up"] == "button_swipe_up"
    assert triggers["push_twist_left"] == "button_push_twist_left"
