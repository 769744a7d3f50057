"""`flic-bridge run` with MQTT on, against a real mosquitto: what subscribers and HA see."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.flicd_sim import SimThread
from tests.support.mosquitto import Mosquitto, Recorder, retained
from tests.support.procs import (
    Proc,
    free_port,
    start_bridge,
    wait_until,
)

pytestmark = pytest.mark.mqtt

FRONT = ("80:e4:da:71:23:45", "front-desk")
BACK = ("80:e4:da:71:23:46", "back-door")
TOKEN = "mqtt-test-token"
CLEAN_ENV = {k: "" for k in os.environ if k.startswith(("ALERT_SERVER_", "FLIC_BRIDGE_"))}


@dataclass
class MqttBridge:
    """One `python -m bridge run` process with `[mqtt] enabled` and no webhook targets."""

    workdir: Path
    broker: Mosquitto
    buttons: list[tuple[str, str]] = field(default_factory=lambda: [FRONT, BACK])
    accept_press: bool = False
    extra: list[str] = field(default_factory=list)  # more config lines, after the buttons
    flicd_port: int | None = None
    mqtt_extra: list[str] = field(default_factory=list)  # more `[mqtt]` lines
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MqttBridge:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            "[bridge]",
            'name = "hall"',
            f'state_dir = "{self.workdir / "state"}"',
            f'listen = "127.0.0.1:{self.port}"',
            f'token = "{TOKEN}"',
            "[flicd]",
            *(["enabled = false"] if self.flicd_port is None else [f"port = {self.flicd_port}"]),
            "[mqtt]",
            "enabled = true",
            f'host = "{self.broker.host}"',
            f"port = {self.broker.port}",
            f"accept_press = {'true' if self.accept_press else 'false'}",
            *self.mqtt_extra,
        ]
        for address, name in self.buttons:
            lines += ["[[button]]", f'address = "{address}"', f'name = "{name}"']
        lines += self.extra
        config = self.workdir / "bridge.toml"
        config.write_text("\n".join(lines) + "\n")
        self.proc = start_bridge(config, self.workdir, self.url, CLEAN_ENV)
        return self

    def press(self, button: str, click: str) -> None:
        answer = httpx.post(
            self.url + "/api/press",
            json={"button": button, "click": click},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text

    def mqtt_target(self) -> dict[str, object]:
        status = httpx.get(self.url + "/api/status", timeout=5).json()
        return next(t for t in status["targets"] if t["name"] == "mqtt")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.stop()
            self.proc = None


@pytest.fixture
def bridge(tmp_path: Path, broker: Mosquitto) -> Iterator[MqttBridge]:
    b = MqttBridge(tmp_path / "bridge", broker)
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread(verified=[FRONT[0], BACK[0]])
    sim.start()
    yield sim
    sim.close()


def actions(rec: Recorder, button: str = "front-desk") -> list[str]:
    return [m.text for m in rec.messages(f"flic/{button}/action")]


def test_presses_reach_mqtt_and_home_assistant_sees_the_devices(
    broker: Mosquitto, recorder: Recorder, bridge: MqttBridge
) -> None:
    bridge.start()
    recorder.wait_for("flic/bridge/state")
    bridge.press("front-desk", "single")
    bridge.press("front-desk", "double")
    bridge.press("back-door", "hold")

    recorder.wait_for("flic/front-desk/action", 2)
    recorder.wait_for("flic/back-door/action", 1)
    assert actions(recorder) == ["single", "double"]
    assert actions(recorder, "back-door") == ["hold"]
    assert all(
        (m.retain, m.qos) == (False, 1) for m in recorder.messages() if m.topic.endswith("/action")
    )
    wait_until(lambda: bridge.mqtt_target()["delivered"] == 3, what="3 deliveries to mqtt")

    kept = retained(broker, "#")
    assert kept["flic/bridge/state"] == b"online"
    assert "flic/front-desk/action" not in kept
    front = json.loads(kept["flic/front-desk"])
    assert front["state"] == "Off"
    assert "action" not in front  # a retained click would fire again on every subscribe
    assert json.loads(kept["flic/back-door"])["state"] == "On"

    # Home Assistant: a device per button, via the bridge, with the configured click types
    node = "homeassistant/{}/flic_edge_hall/{}/config"
    event = json.loads(kept[node.format("event", "flic_80e4da712345_action")])
    assert event["event_types"] == ["single", "double", "hold"]  # default on/off mapping
    assert event["device"]["name"] == "front-desk"
    assert event["device"]["via_device"] == "flic_edge_bridge_hall"
    assert event["availability"][0]["topic"] == "flic/bridge/state"
    triggers = sorted(
        json.loads(p)["payload"]
        for t, p in kept.items()
        if t.startswith("homeassistant/device_automation/flic_edge_hall/flic_80e4da712346_")
    )
    assert triggers == ["double", "hold", "single"]
    assert node.format("sensor", "flic_80e4da712346_battery") in kept


def test_a_killed_bridge_is_announced_offline_by_the_broker(
    broker: Mosquitto, bridge: MqttBridge
) -> None:
    with Recorder(broker, "flic/bridge/state") as rec:
        bridge.start()
        wait_until(lambda: [m.text for m in rec.messages()][-1:] == ["online"], what="online")
        bridge.kill()
        wait_until(lambda: [m.text for m in rec.messages()][-1:] == ["offline"], what="offline")
    assert retained(broker, "flic/bridge/state") == {"flic/bridge/state": b"offline"}
    # and a restarted bridge says online again
    bridge.start()
    wait_until(lambda: retained(broker, "flic/bridge/state")["flic/bridge/state"] == b"online")


@pytest.mark.faults  # the broker restarting: one of issue 10's faults
def test_presses_made_while_the_broker_is_down_are_published_in_order_after(
    broker: Mosquitto, bridge: MqttBridge
) -> None:
    bridge.start()
    with Recorder(broker, "flic/#", persistent_id="automations") as rec:
        rec.wait_for("flic/bridge/state")
        bridge.press("front-desk", "single")
        rec.wait_for("flic/front-desk/action")

        broker.stop()
        clicks = ["double", "hold", "single", "double", "single"]
        for click in clicks:
            bridge.press("front-desk", click)
        wait_until(lambda: bridge.mqtt_target()["pending"] == 5, what="5 presses held")
        broker.start()

        rec.wait_for("flic/front-desk/action", 6, timeout=40)
        assert actions(rec) == ["single", *clicks]
    wait_until(lambda: bridge.mqtt_target()["pending"] == 0, what="outbox drained")


def test_a_press_published_to_the_press_topic_is_a_click(
    broker: Mosquitto, recorder: Recorder, tmp_path: Path
) -> None:
    bridge = MqttBridge(tmp_path / "bridge", broker, accept_press=True).start()
    try:
        # The bridge subscribes before it says online, on the same ordered connection.
        recorder.wait_for("flic/bridge/state")
        publish(broker, "flic/back-door/press", b"hold")
        publish(broker, "flic/nobody/press", b"single")
        recorder.wait_for("flic/back-door/action")
        wait_until(lambda: bridge.mqtt_target()["delivered"] == 1, what="1 delivery")
        assert actions(recorder, "back-door") == ["hold"]
        state = json.loads(recorder.messages("flic/back-door")[-1].payload)
        assert state["state"] == "On"
        assert "action" not in state
        assert not recorder.messages("flic/nobody/action")
    finally:
        bridge.stop()
    assert "no such button in the config" in (tmp_path / "bridge" / "bridge.log").read_text()


def publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def test_flicd_clicks_and_battery_news_reach_the_button_topics(
    broker: Mosquitto, recorder: Recorder, flicd: SimThread, tmp_path: Path
) -> None:
    flicd.call(flicd.sim.set_battery(FRONT[0], 73))
    bridge = MqttBridge(tmp_path / "bridge", broker, flicd_port=flicd.sim.port).start()
    try:
        wait_until(lambda: flicd.has_channel(FRONT[0]), what="a channel for the front desk")
        flicd.press(FRONT[0], "hold")
        flicd.press(FRONT[0], "double", queued_s=40)  # made out of reach, arrives late
        recorder.wait_for("flic/front-desk/action", 2)
        assert actions(recorder) == ["hold", "double"]

        def state() -> dict[str, object]:
            return json.loads(retained(broker, "flic/front-desk")["flic/front-desk"])

        wait_until(lambda: state()["battery"] == 73, what="battery 73 in the retained state")
        final = state()
        assert (final["state"], final["connected"]) == ("Off", True)
        assert "action" not in final
    finally:
        bridge.stop()
