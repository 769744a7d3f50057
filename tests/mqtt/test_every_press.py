"""Home Assistant gets every press, whatever the webhook mapping; retained state never fires."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app.wiring import discovery_button
from bridge.config import parse_config
from bridge.models import ClickType, RawClick
from tests.bridge.receiver import Receiver
from tests.mqtt.test_bridge_program import BACK, FRONT, MqttBridge, actions
from tests.support.flicd_sim import SimThread
from tests.support.mosquitto import Mosquitto, Recorder, retained
from tests.support.procs import wait_until

pytestmark = pytest.mark.mqtt
T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread(verified=[FRONT[0], BACK[0]])
    sim.start()
    yield sim
    sim.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def targets(bridge: MqttBridge) -> dict[str, dict[str, object]]:
    status = httpx.get(bridge.url + "/api/status", timeout=5).json()
    return {t["name"]: t for t in status["targets"]}


def test_a_hold_the_webhook_mapping_leaves_out_still_reaches_home_assistant(
    broker: Mosquitto, recorder: Recorder, flicd: SimThread, hook: Receiver, tmp_path: Path
) -> None:
    # Mapped for the alert server as single = On, double = Off: hold means nothing to it.
    bridge = MqttBridge(
        tmp_path / "bridge",
        broker,
        buttons=[],
        flicd_port=flicd.sim.port,
        extra=[
            "[[button]]",
            f'address = "{FRONT[0]}"',
            f'name = "{FRONT[1]}"',
            'on = ["single"]',
            'off = ["double"]',
            "[[forward]]",
            'name = "alerts"',
            f'url = "{hook.url}"',
        ],
    ).start()
    try:
        wait_until(lambda: flicd.has_channel(FRONT[0]), what="a channel for the front desk")
        for kind in ("single", "hold", "double", "hold"):
            flicd.press(FRONT[0], kind)
        recorder.wait_for("flic/front-desk/action", 4)

        def drained() -> bool:
            now = targets(bridge)
            return (now["mqtt"]["delivered"], now["alerts"]["delivered"]) == (4, 2) and all(
                t["pending"] == 0 for t in now.values()
            )

        wait_until(drained, what="4 presses to MQTT, 2 to the webhook")
        # one message per physical press, in order, holds included
        assert actions(recorder) == ["single", "hold", "double", "hold"]
        # the webhook still gets only what its mapping names
        assert [(b["click_type"], b["flic_state"]) for b in hook.bodies()] == [
            ("single", "On"),
            ("double", "Off"),
        ]
        kept = retained(broker, "#")
    finally:
        bridge.stop()
    state = json.loads(kept["flic/front-desk"])
    assert state["state"] == "Off"  # a hold changed no On/Off
    assert "action" not in state
    node = "homeassistant/{}/flic_edge_hall/{}/config"
    event = json.loads(kept[node.format("event", "flic_80e4da712345_action")])
    assert event["event_types"] == ["single", "double", "hold"]
    triggers = sorted(
        json.loads(p)["payload"]
        for t, p in kept.items()
        if t.startswith("homeassistant/device_automation/flic_edge_hall/flic_80e4da712345_")
    )
    assert triggers == ["double", "hold", "single"]


def test_a_button_mapped_for_click_offers_click_and_hold_one_message_a_press(
    broker: Mosquitto, recorder: Recorder, flicd: SimThread, tmp_path: Path
) -> None:
    # `click` is the press without the double-click wait: single/double would be a second
    # message for the same press, so that button offers click and hold.
    bridge = MqttBridge(
        tmp_path / "bridge",
        broker,
        buttons=[],
        flicd_port=flicd.sim.port,
        extra=[
            "[[button]]",
            f'address = "{BACK[0]}"',
            f'name = "{BACK[1]}"',
            'on = ["click"]',
            "off = []",
        ],
    ).start()
    try:
        wait_until(lambda: flicd.has_channel(BACK[0]), what="a channel for the back door")
        flicd.press(BACK[0], "single")
        flicd.press(BACK[0], "hold")
        recorder.wait_for("flic/back-door/action", 2)
        wait_until(lambda: targets(bridge)["mqtt"]["delivered"] == 2, what="2 deliveries")
        assert actions(recorder, "back-door") == ["click", "hold"]
        kept = retained(broker, "homeassistant/#")
    finally:
        bridge.stop()
    event = json.loads(kept["homeassistant/event/flic_edge_hall/flic_80e4da712346_action/config"])
    assert event["event_types"] == ["hold", "click"]


def test_a_button_removed_from_the_config_has_its_retained_state_cleared(
    broker: Mosquitto, tmp_path: Path
) -> None:
    first = MqttBridge(tmp_path / "bridge", broker).start()
    try:
        first.press("front-desk", "single")
        first.press("back-door", "hold")
        wait_until(lambda: len(retained(broker, "flic/+")) == 2, what="both states retained")
    finally:
        first.stop()
    again = MqttBridge(tmp_path / "bridge", broker, buttons=[FRONT]).start()
    try:
        wait_until(
            lambda: retained(broker, "flic/bridge/state") == {"flic/bridge/state": b"online"},
            what="the bridge online again",
        )
        # `online` comes before the states are read back: wait for the removal itself
        wait_until(lambda: "flic/back-door" not in retained(broker, "flic/+"), what="cleared")
        kept = retained(broker, "flic/+")
    finally:
        again.stop()
    assert set(kept) == {"flic/front-desk"}


def button_spec(on: list[str], off: list[str]) -> Any:
    cfg = parse_config({"button": [{"address": FRONT[0], "name": FRONT[1], "on": on, "off": off}]})
    return cfg.buttons[0]


@pytest.mark.parametrize(
    ("on", "off", "offered"),
    [
        (["single"], ["double"], ["single", "double", "hold"]),
        (["hold"], [], ["single", "double", "hold"]),
        (["click"], [], ["hold", "click"]),
        (["single"], ["down", "up"], ["single", "double", "hold", "down", "up"]),
    ],
)
def test_discovery_offers_every_click_type_whatever_the_mapping(
    on: list[str], off: list[str], offered: list[str]
) -> None:
    assert list(discovery_button(button_spec(on, off)).click_types) == offered


async def test_an_unmapped_click_is_stored_for_mqtt_only(tmp_path: Path) -> None:
    from bridge.app.runtime import Runtime

    cfg = parse_config(
        {
            "bridge": {"name": "hall", "state_dir": str(tmp_path), "token": "t" * 12},
            "forward": [{"url": "http://127.0.0.1:9/a", "name": "alerts"}],
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "mqtt": {"enabled": True, "port": 9},
            "button": [{"address": FRONT[0], "name": FRONT[1], "on": ["single"], "off": []}],
        }
    )
    runtime = Runtime(cfg, sources=[], clock=lambda: T0)
    try:
        await runtime.accept(RawClick(FRONT[0], ClickType.HOLD, "api", T0))
        await runtime.accept(RawClick(FRONT[0], ClickType.SINGLE, "api", T0))
        later = T0 + timedelta(days=1)

        def line(target: str) -> list[tuple[str, str | None]]:
            got = []
            while due := runtime.outbox.due(target, later):
                for row in due:
                    got.append((row.body["click_type"], row.body["flic_state"]))
                    runtime.outbox.mark_delivered(row.seq, target, later)
            return got

        assert line("mqtt") == [("hold", None), ("single", "On")]
        assert line("alerts") == [("single", "On")]
    finally:
        runtime.outbox.close()
