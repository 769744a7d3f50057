"""Home Assistant discovery: the documents, read the way Home Assistant reads them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bridge.models import ButtonSeen
from bridge.mqtt.discovery import (
    DiscoveryButton,
    DiscoveryContext,
    all_documents,
    own_documents_filter,
    removals,
)
from bridge.mqtt.link import BrokerSettings
from bridge.sinks.mqtt import MqttSink
from tests.mqtt.conftest import eventually
from tests.support.mosquitto import Mosquitto, Recorder, retained
from tests.support.procs import Proc, python_module

pytestmark = pytest.mark.mqtt

FRONT = DiscoveryButton("80:E4:DA:71:23:45", "front-desk", ("single", "hold", "double"))
BACK = DiscoveryButton("80:e4:da:71:99:01", "back door", ("click", "down", "up"))
CTX = DiscoveryContext(
    bridge_name="bridge-1", base_topic="flic", prefix="homeassistant", sw_version="0.1.0"
)
ROOT = Path(__file__).resolve().parents[2]


def render(template: str, payload: bytes) -> str:
    """Render a value_template with `value` and `value_json`, as Home Assistant does."""
    text = payload.decode()
    try:
        value_json = json.loads(text)
    except ValueError:
        value_json = None
    env = ImmutableSandboxedEnvironment()
    return env.from_string(template).render(value=text, value_json=value_json)


def test_every_document_has_its_own_topic_and_unique_id() -> None:
    docs = all_documents([FRONT, BACK], CTX)
    topics = [d.topic for d in docs]
    assert len(topics) == len(set(topics))
    ids = [d.config["unique_id"] for d in docs if d.config and "unique_id" in d.config]
    assert len(ids) == len(set(ids))
    assert all(t.split("/")[2] == "flic_edge_bridge-1" and t.endswith("/config") for t in topics)


def test_device_triggers_are_unique_per_device_and_match_the_action_payloads() -> None:
    for button in (FRONT, BACK):
        triggers = [
            d.config
            for d in all_documents([button], CTX)
            if d.config and d.config.get("automation_type") == "trigger"
        ]
        assert sorted(t["payload"] for t in triggers) == sorted(button.click_types)
        assert len({(t["type"], t["subtype"]) for t in triggers}) == len(triggers)
        assert {t["topic"] for t in triggers} == {f"flic/{button.name}/action"}
    single = next(
        d.config
        for d in all_documents([FRONT], CTX)
        if d.config and d.config.get("payload") == "single"
    )
    assert (single["type"], single["subtype"]) == ("button_short_press", "button_1")


def test_removals_empty_exactly_the_documents_no_longer_wanted() -> None:
    before = all_documents([FRONT, BACK], CTX)
    after = all_documents([FRONT], CTX)
    gone = removals([d.topic for d in before], after)
    assert {d.topic for d in gone} == {d.topic for d in before} - {d.topic for d in after}
    assert all(d.payload() == b"" for d in gone)
    assert all("flic_80e4da719901" in d.topic for d in gone)


async def start_sink(broker: Mosquitto, buttons: list[DiscoveryButton], **kw: Any) -> MqttSink:
    sink = MqttSink(
        BrokerSettings(host=broker.host, port=broker.port, publish_timeout_s=5.0, **kw),
        bridge_name="bridge-1",
        buttons=buttons,
        sw_version="0.1.0",
    )
    await sink.start()
    assert await sink.link.wait_connected(10)
    return sink


async def test_home_assistant_finds_a_device_per_button_with_working_entities(
    broker: Mosquitto,
) -> None:
    sink = await start_sink(broker, [FRONT])
    try:
        await sink.deliver(
            {
                "flic_nameId": "front-desk",
                "flic_state": "On",
                "click_type": "hold",
                "pressed_at": "2026-11-26T07:00:00.123Z",
            }
        )
        sink.observe("front-desk", ButtonSeen(FRONT.address, "flicd", datetime.now(UTC), True, 64))
        await eventually(lambda: sink.link.connected and not sink._tasks)
        kept = await asyncio.to_thread(retained, broker, "#")
    finally:
        await sink.close()

    configs = {t: json.loads(p) for t, p in kept.items() if t.startswith("homeassistant/")}
    node = "homeassistant/{}/flic_edge_bridge-1/flic_80e4da712345_{}/config"
    event = configs[node.format("event", "action")]
    battery = configs[node.format("sensor", "battery")]
    connected = configs[node.format("binary_sensor", "connected")]
    alert_state = configs[node.format("sensor", "state")]
    triggers = [c for c in configs.values() if c.get("automation_type") == "trigger"]

    # one device, named by the config, identified by the address, via the bridge device
    device = event["device"]
    assert device["identifiers"] == ["flic_80e4da712345"]
    assert (device["name"], device["manufacturer"]) == ("front-desk", "Flic")
    assert device["via_device"] == "flic_edge_bridge_bridge-1"
    bridge_doc = configs[
        "homeassistant/binary_sensor/flic_edge_bridge-1/bridge_connection_state/config"
    ]
    assert bridge_doc["device"]["identifiers"] == ["flic_edge_bridge_bridge-1"]
    assert all(c["device"] == device for c in [battery, connected, alert_state, *triggers])

    # availability follows the bridge's retained state (online while it ran)
    for entity in (event, battery, connected, alert_state):
        (avail,) = entity["availability"]
        assert avail["topic"] == "flic/bridge/state"
        assert kept["flic/bridge/state"].decode() == avail["payload_available"]
        assert avail["payload_not_available"] == "offline"

    # the event entity turns the bare action payload into an event type it declared
    assert event["event_types"] == ["single", "hold", "double"]
    assert event["state_topic"] == "flic/front-desk/action"
    fired = json.loads(render(event["value_template"], b"hold"))
    assert fired == {"event_type": "hold"}

    # sensors read the retained button state
    state_payload = kept[battery["state_topic"]]
    assert render(battery["value_template"], state_payload) == "64"
    assert (battery["device_class"], battery["unit_of_measurement"]) == ("battery", "%")
    assert render(connected["value_template"], state_payload) == "ON"
    assert render(alert_state["value_template"], state_payload) == "On"

    # device triggers: one per configured click type, on the action topic
    assert sorted(t["payload"] for t in triggers) == ["double", "hold", "single"]
    assert {t["topic"] for t in triggers} == {"flic/front-desk/action"}


async def test_unknown_battery_renders_as_unknown_not_zero(broker: Mosquitto) -> None:
    sink = await start_sink(broker, [FRONT])
    try:
        await sink.deliver(
            {"flic_nameId": "front-desk", "flic_state": "On", "click_type": "single"}
        )
        kept = await asyncio.to_thread(retained, broker, "flic/front-desk")
    finally:
        await sink.close()
    battery = next(
        d.config for d in all_documents([FRONT], CTX) if d.topic.endswith("_battery/config")
    )
    assert battery is not None
    # Home Assistant treats the rendered string "None" as an unknown state
    assert render(battery["value_template"], kept["flic/front-desk"]) == "None"


async def test_discovery_is_published_again_when_home_assistant_comes_online(
    broker: Mosquitto, recorder: Recorder
) -> None:
    sink = await start_sink(broker, [FRONT])
    try:
        await eventually(lambda: recorder.messages(all_documents([FRONT], CTX)[-1].topic))
        recorder.clear()
        await asyncio.to_thread(_publish, broker, "homeassistant/status", b"offline")
        await asyncio.to_thread(_publish, broker, "homeassistant/status", b"online")
        wanted = {d.topic for d in all_documents([FRONT], CTX)}
        await eventually(lambda: wanted <= {m.topic for m in recorder.messages()}, what=str(wanted))
        assert all(len(recorder.messages(t)) == 1 for t in wanted)  # once, for the one `online`
    finally:
        await sink.close()


async def test_a_button_removed_from_the_config_disappears_from_home_assistant(
    broker: Mosquitto,
) -> None:
    first = await start_sink(broker, [FRONT, BACK])
    await first.close()
    before = await asyncio.to_thread(retained, broker, own_documents_filter(CTX))
    assert any("flic_80e4da719901" in t for t in before)

    narrower = DiscoveryButton(FRONT.address, FRONT.name, ("single",))
    second = await start_sink(broker, [narrower])
    await second.close()
    after = await asyncio.to_thread(retained, broker, own_documents_filter(CTX))
    assert set(after) == {d.topic for d in all_documents([narrower], CTX)}
    assert not any("flic_80e4da719901" in t for t in after)
    assert not any(t.endswith(("_hold/config", "_double/config")) for t in after)


async def test_discovery_off_when_the_prefix_is_empty(broker: Mosquitto) -> None:
    sink = await start_sink(broker, [FRONT], discovery_prefix="")
    await sink.close()
    kept = await asyncio.to_thread(retained, broker, "#")
    assert not any(t.startswith("homeassistant/") for t in kept)
    assert kept["flic/bridge/state"] == b"offline"


def test_last_will_says_offline_when_the_process_is_killed(
    broker: Mosquitto, tmp_path: Path
) -> None:
    with Recorder(broker, "flic/bridge/state") as rec:
        child = Proc(
            python_module("tests.mqtt.sink_child", broker.host, str(broker.port), "bridge-kill"),
            log_path=tmp_path / "child.log",
            cwd=ROOT,
        )
        try:
            rec.wait_for("flic/bridge/state")
            assert rec.messages("flic/bridge/state")[-1].text == "online"
            child.kill()
            got = rec.wait_for("flic/bridge/state", 2)
        finally:
            child.stop()
    assert got[-1].text == "offline"
    assert retained(broker, "flic/bridge/state") == {"flic/bridge/state": b"offline"}


def _publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
