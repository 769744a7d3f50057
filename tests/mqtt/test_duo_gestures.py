"""A Flic Duo's and a Flic Twist's gestures reach Home Assistant: event types, device triggers
per button (a Duo's small button is `button_2`), per-button topics, the Twist's selector."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bridge.app.wiring import discovery_button, mqtt_sink
from bridge.config import parse_config
from bridge.flic2 import Pairing
from bridge.mqtt.discovery import DiscoveryButton, all_documents
from bridge.sources.ble.store import PairingStore
from tests.bridge.receiver import Receiver
from tests.flic2.bridge_run import bridge_over_ble, until
from tests.flic2.sim_twist import SimTwist
from tests.mqtt.test_discovery import CTX, render, start_sink
from tests.support.mosquitto import Mosquitto, Recorder, retained

pytestmark = pytest.mark.mqtt

GESTURES = ["swipe_left", "swipe_right", "swipe_up", "swipe_down"]
TURNS = ["twist_left", "twist_right", "push_twist_left", "push_twist_right", "selector_changed"]
DUO_ADDRESS = "80:e4:da:71:23:46"
TWIST_ADDRESS = "80:e4:da:71:23:47"


def duo_config() -> Any:
    return parse_config(
        {
            "bridge": {"name": CTX.bridge_name},
            "button": [
                {
                    "address": DUO_ADDRESS,
                    "name": "duo",
                    "on": ["swipe_up", "push_twist_right"],
                    "off": ["swipe_down"],
                }
            ],
        }
    )


def duo_button() -> DiscoveryButton:
    pairing = Pairing(DUO_ADDRESS, 1, bytes(16), duo=True)
    return discovery_button(duo_config().buttons[0], pairing)


def triggers(docs: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (d.topic, d.config)
        for d in docs
        if d.config is not None and d.config.get("automation_type") == "trigger"
    ]


def body(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "flic_state": "On",
        "click_type": kind,
        "pressed_at": "2026-11-26T07:00:00.123Z",
        **extra,
    }


async def test_duo_gestures_are_event_types_triggers_and_per_button_actions(
    broker: Mosquitto, recorder: Recorder
) -> None:
    button = discovery_button(duo_config().buttons[0])
    # Every gesture is offered whatever the mapping: Home Assistant may use the others.
    assert set(GESTURES + TURNS) <= set(button.click_types)
    sink = await start_sink(broker, [button])
    try:
        for number, kind in ((1, "swipe_up"), (0, "push_twist_right")):
            await sink.deliver(body(kind, flic_nameId="duo", button_number=number))
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
    found = {c["payload"]: c["type"] for c in configs.values() if c.get("automation_type")}
    assert found["swipe_up"] == "button_swipe_up"
    assert found["push_twist_left"] == "button_push_twist_left"


def test_a_paired_duo_has_a_trigger_per_click_type_for_each_of_its_two_buttons() -> None:
    button = duo_button()
    assert (button.button_count, button.model) == (2, "Flic Duo")
    found = triggers(all_documents([button], CTX))
    assert len(found) == 2 * len(button.click_types)
    assert len({topic for topic, _ in found}) == len(found)  # each its own discovery topic
    assert len({(c["type"], c["subtype"]) for _, c in found}) == len(found)
    by_subtype = {
        sub: {c["payload"]: c for _, c in found if c["subtype"] == sub}
        for sub in ("button_1", "button_2")
    }
    assert set(by_subtype["button_1"]) == set(by_subtype["button_2"]) == set(button.click_types)
    # Each button's triggers listen to that button's topic only.
    assert {c["topic"] for c in by_subtype["button_1"].values()} == {"flic/duo/button_1/action"}
    assert {c["topic"] for c in by_subtype["button_2"].values()} == {"flic/duo/button_2/action"}
    single = by_subtype["button_2"]["single"]
    assert (single["type"], single["subtype"]) == ("button_short_press", "button_2")


async def test_a_press_of_the_duos_small_button_fires_only_its_button_2_trigger(
    broker: Mosquitto, recorder: Recorder
) -> None:
    button = duo_button()
    sink = await start_sink(broker, [button])
    try:
        await sink.deliver(body("single", flic_nameId="duo", button_number=1))
        await asyncio.to_thread(recorder.wait_for, "flic/duo/button_2/action", 1)
        docs = retained(broker, "homeassistant/device_automation/#")
    finally:
        await sink.close()
    configs = [json.loads(p) for p in docs.values() if p]
    # What Home Assistant does with a trigger: fire when its topic carries its payload.
    fired = [
        (c["type"], c["subtype"])
        for c in configs
        for m in recorder.messages(c["topic"])
        if m.text == c["payload"]
    ]
    assert fired == [("button_short_press", "button_2")]


def test_the_bridge_reads_from_the_ble_pairings_which_button_is_a_duo_or_a_twist(
    tmp_path: Path,
) -> None:
    store = PairingStore(tmp_path)
    store.save(Pairing(DUO_ADDRESS, 1, bytes(16), duo=True))
    store.save(Pairing(TWIST_ADDRESS, 2, bytes(16), twist=True))
    config = parse_config(
        {
            "bridge": {"name": "b", "state_dir": str(tmp_path)},
            "ble": {"enabled": True},
            "mqtt": {"enabled": True},
            "button": [
                {"address": DUO_ADDRESS, "name": "duo"},
                {"address": TWIST_ADDRESS, "name": "dial"},
                {"address": "80:e4:da:71:23:48", "name": "plain"},
            ],
        }
    )
    buttons = mqtt_sink(config).buttons
    assert [(b.name, b.model, b.button_count, b.has_selector) for b in buttons] == [
        ("duo", "Flic Duo", 2, False),
        ("dial", "Flic Twist", 1, True),
        ("plain", "Flic button", 1, False),
    ]
    # Each offers Home Assistant the gestures it can make, with the default mapping too.
    duo, dial, plain = (set(b.click_types) for b in buttons)
    assert set(GESTURES) | {"push_twist_left", "push_twist_right"} <= duo
    assert not {"twist_left", "twist_right", "selector_changed"} & duo
    assert set(TURNS) <= dial
    assert not set(GESTURES) & dial
    assert not set(GESTURES + TURNS) & plain


async def test_twist_turns_are_actions_and_its_selector_position_a_retained_sensor(
    broker: Mosquitto, recorder: Recorder
) -> None:
    spec = parse_config(
        {
            "bridge": {"name": CTX.bridge_name},
            "button": [{"address": TWIST_ADDRESS, "name": "dial"}],
        }
    ).buttons[0]
    button = discovery_button(spec, Pairing(TWIST_ADDRESS, 2, bytes(16), twist=True))
    sink = await start_sink(broker, [button])
    try:
        await sink.deliver(body("twist_right", flic_nameId="dial"))
        await sink.deliver(body("selector_changed", flic_nameId="dial", position=4))
        await asyncio.to_thread(recorder.wait_for, "flic/dial/action", 2)
        kept = retained(broker, "flic/dial/#")
        docs = retained(broker, "homeassistant/sensor/#")
    finally:
        await sink.close()
    assert [m.text for m in recorder.messages("flic/dial/action")] == [
        "twist_right",
        "selector_changed",
    ]
    assert kept["flic/dial/selector"] == b"4"
    assert "flic/dial/action" not in kept  # an action is never retained
    sensor = json.loads(
        docs["homeassistant/sensor/flic_edge_bridge-1/flic_80e4da712347_selector/config"]
    )
    assert (sensor["state_topic"], sensor["unique_id"]) == (
        "flic/dial/selector",
        "flic_80e4da712347_selector",
    )
    assert render(sensor.get("value_template", "{{ value }}"), kept["flic/dial/selector"]) == "4"


async def test_a_simulated_twist_reaches_mqtt_through_the_whole_bridge(
    tmp_path: Path, broker: Mosquitto, recorder: Recorder
) -> None:
    """SimTwist -> BLE source -> runtime and outbox -> MQTT sink -> mosquitto."""
    factory = Ed25519PrivateKey.generate()
    key = factory.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    twist = SimTwist("80:e4:da:71:23:45", factory, name="dial")
    hook = Receiver().start()

    async def webhook() -> bool:
        return bool(hook.bodies())

    mqtt = {"enabled": True, "host": broker.host, "port": broker.port}
    try:
        async with bridge_over_ble(
            tmp_path,
            twist,
            key,
            hook.url,
            {"name": "dial", "on": ["selector_changed"]},
            ready=lambda: 0x0A in twist.signed_opcodes,
            sections={"mqtt": mqtt, "ble": {"enabled": True}},
        ):
            twist.turn(-4096)
            twist.select(2)
            await asyncio.to_thread(recorder.wait_for, "flic/dial/action", 4)
            await until(webhook, "the selector's webhook")
            kept = retained(broker, "flic/dial/#")
            docs = retained(broker, "homeassistant/sensor/#")
    finally:
        hook.stop()
    assert [m.text for m in recorder.messages("flic/dial/action")] == [
        "twist_left",
        "push_twist_right",
        "push_twist_right",
        "selector_changed",
    ]
    assert kept["flic/dial/selector"] == b"2"
    assert any(topic.endswith("flic_80e4da712345_selector/config") for topic in docs)
    assert [(b["click_type"], b["position"]) for b in hook.bodies()] == [("selector_changed", 2)]
