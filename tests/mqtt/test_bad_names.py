"""Issue 16: a button name the broker refuses must not take the bridge's MQTT down for good.

The real `flic-bridge run` against a real mosquitto: mosquitto drops the connection over a
control character in a topic, and over a packet larger than its `max_packet_size`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.mqtt.topics import clean_topic, segment, shared_topics
from tests.mqtt.test_bridge_program import CLEAN_ENV, FRONT, MqttBridge, actions
from tests.support.mosquitto import Mosquitto, Recorder
from tests.support.procs import python_module, wait_until

pytestmark = pytest.mark.mqtt

KITCHEN = ("80:e4:da:71:23:47", "Kitchen\u007f")
HALL = ("80:e4:da:71:23:48", "Hall\u0090")
LONG = ("80:e4:da:71:23:49", "x" * 2500)  # its topics are over the strict broker's packet limit


def toml_name(name: str) -> str:
    """A name as it must be written inside a TOML basic string (controls escaped)."""
    return json.dumps(name)[1:-1]


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Kitchen\x7f", "Kitchen_"),
        ("a\x00b\x1fc", "a_b_c"),
        ("c1\x80\x9f", "c1__"),
        ("lone\ud800", "lone_"),
        ("non\ufdd0\ufffe\U0010ffff", "non___"),
        ("hall/left #2+", "hall_left _2_"),
        ("Küche ✓ 🔔", "Küche ✓ 🔔"),  # ordinary non-ASCII stays as it is
        ("\x7f", "_"),
    ],
)
def test_topic_levels_hold_nothing_a_broker_refuses(name: str, level: str) -> None:
    assert segment(name) == level


def test_a_whole_topic_keeps_its_levels_and_loses_what_brokers_refuse() -> None:
    assert clean_topic("flic/Kit\x7fchen/a\x9bction/#") == "flic/Kit_chen/a_ction/#"


def test_names_that_become_one_topic_level_are_found() -> None:
    assert shared_topics(["lobby/door", "front", "lobby_door", "lobby#door", "front"]) == [
        (0, 2),
        (0, 3),
    ]


class StrictBroker(Mosquitto):
    """mosquitto that drops a client sending a packet over 2,000 bytes."""

    def _write_config(self) -> None:
        super()._write_config()
        with self.config_path.open("a") as out:
            out.write("max_packet_size 2000\n")


def status(bridge: MqttBridge) -> dict[str, object]:
    return httpx.get(bridge.url + "/api/status", timeout=5).json()  # type: ignore[no-any-return]


def dead_rows(bridge: MqttBridge) -> list[dict[str, object]]:
    """`flic-bridge outbox list --state dead --json`, as an admin would look."""
    config = str(bridge.workdir / "bridge.toml")
    out = subprocess.run(
        python_module("bridge", "outbox", "list", "--state", "dead", "--json", "--config", config),
        capture_output=True,
        text=True,
        check=True,
        cwd=bridge.workdir,
        env={**os.environ, **CLEAN_ENV},
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_control_characters_in_button_names_are_cleaned_from_the_topics(
    tmp_path: Path, broker: Mosquitto, recorder: Recorder
) -> None:
    buttons = [(KITCHEN[0], toml_name(KITCHEN[1])), (HALL[0], toml_name(HALL[1])), FRONT]
    bridge = MqttBridge(tmp_path / "bridge", broker, buttons=buttons).start()
    try:
        bridge.press(KITCHEN[1], "single")
        bridge.press(HALL[1], "hold")
        bridge.press("front-desk", "double")

        assert [m.text for m in recorder.wait_for("flic/Kitchen_/action")] == ["single"]
        assert [m.text for m in recorder.wait_for("flic/Hall_/action")] == ["hold"]
        assert [m.text for m in recorder.wait_for("flic/front-desk/action")] == ["double"]
        kitchen = json.loads(recorder.wait_for("flic/Kitchen_")[-1].payload)
        # the retained state carries no action (issue 15): that is on .../action alone
        assert (kitchen["state"], "action" in kitchen) == ("On", False)
        # one connection all along: the bridge said `online` once and nothing waits or died
        assert [m.text for m in recorder.messages("flic/bridge/state")] == ["online"]
        outbox = status(bridge)["outbox"]
        assert isinstance(outbox, dict)
        assert (outbox["pending"], outbox["dead"], outbox["delivered"]) == (0, 0, 3)
    finally:
        bridge.stop()


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Mosquitto]:
    b = StrictBroker(tmp_path / "strict").start()
    try:
        yield b
    finally:
        b.stop()


@pytest.mark.faults  # the broker dropping the connection, and a bridge restart
def test_a_message_the_broker_drops_the_connection_over_becomes_a_dead_letter(
    tmp_path: Path, strict: Mosquitto
) -> None:
    bridge = MqttBridge(
        tmp_path / "bridge", strict, buttons=[FRONT, LONG], mqtt_extra=['discovery_prefix = ""']
    )
    with Recorder(strict, "flic/#") as rec:
        bridge.start()
        try:
            bridge.press("front-desk", "single")
            bridge.press(LONG[1], "single")
            bridge.press("front-desk", "double")
            bridge.press("front-desk", "hold")

            wait_until(
                lambda: (o := status(bridge)["outbox"]) and o["dead"] == 1 and o["pending"] == 0,  # type: ignore[index]
                timeout=60,
                what="the long-named press dead and nothing pending",
            )
            # the other button's presses all went out, in order, while that row failed
            assert actions(rec) == ["single", "double", "hold"]
            (dead,) = dead_rows(bridge)
            assert dead["button"] == LONG[1]
            assert "dropped the connection right after each of 3 publishes" in str(
                dead["last_error"]
            )
            onlines = len(rec.messages("flic/bridge/state"))

            bridge.stop()
            bridge.start()  # the dead row must not start the loop again
            bridge.press("front-desk", "single")
            wait_until(lambda: len(actions(rec)) == 4, what="the press after the restart")
            assert actions(rec) == ["single", "double", "hold", "single"]
            states = [m.text for m in rec.messages("flic/bridge/state")][onlines:]
            assert states == ["offline", "online"]  # one clean stop, one connection since
            assert [r["event_id"] for r in dead_rows(bridge)] == [dead["event_id"]]
            outbox = status(bridge)["outbox"]
            assert isinstance(outbox, dict)
            assert (outbox["pending"], outbox["dead"]) == (0, 1)
        finally:
            bridge.stop()
