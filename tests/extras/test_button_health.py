"""Button health on an injected clock: what the bridge puts in its outbox, and when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.config import parse_config
from bridge.core.health import HealthMonitor, SourceView
from bridge.core.outbox import Outbox
from bridge.core.registry import ButtonRegistry
from bridge.errors import ConfigError
from bridge.models import ButtonSeen, ClickType
from tests.extras.conftest import T0

DESK = "80:e4:da:71:23:45"
DOOR = "80:e4:da:71:23:46"


def config(health: dict[str, Any] | None = None, door: dict[str, Any] | None = None) -> Any:
    door_button: dict[str, Any] = {"address": DOOR, "name": "back-door"}
    if door is not None:
        door_button["health"] = door
    return parse_config(
        {
            "bridge": {"name": "bridge-1"},
            "forward": [{"url": "http://127.0.0.1:9/a", "name": "a"}],
            "health": health or {},
            "button": [{"address": DESK, "name": "front-desk"}, door_button],
        }
    )


@dataclass
class Rig:
    """A monitor over a real outbox and registry, with sources and a clock the test sets."""

    monitor: HealthMonitor
    outbox: Outbox
    registry: ButtonRegistry
    sources: list[SourceView]
    clock: list[datetime] = field(default_factory=lambda: [T0])

    def at(self, seconds: float) -> None:
        self.clock[0] = T0 + timedelta(seconds=seconds)

    def sent(self) -> list[tuple[str, str]]:
        """(flic_nameId, flic_state) of every body queued for target `a`, oldest first."""
        rows = []
        while due := self.outbox.due("a", self.clock[0] + timedelta(days=1)):
            for row in due:
                rows.append((row.seq, row.body["flic_nameId"], row.body["flic_state"]))
                self.outbox.mark_delivered(row.seq, "a", self.clock[0])
        self._seen.extend((name, state) for _, name, state in sorted(rows))
        return list(self._seen)

    _seen: list[tuple[str, str]] = field(default_factory=list)


def make_rig(tmp_path: Path, cfg: Any) -> Iterator[Rig]:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    registry = ButtonRegistry(cfg.buttons)
    sources = [SourceView("flicd", "up", T0)]
    clock = [T0]
    monitor = HealthMonitor(
        cfg.health,
        bridge_name="bridge-1",
        state_dir=tmp_path,
        outbox=outbox,
        targets=lambda: ["a"],
        buttons=registry.states,
        sources=lambda: sources,
        clock=lambda: clock[0],
    )
    try:
        yield Rig(monitor, outbox, registry, sources, clock)
    finally:
        outbox.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(tmp_path, config(door={"battery_below": 30, "unseen_after_s": 600}))


def battery(rig: Rig, address: str, percent: int) -> None:
    rig.registry.seen(ButtonSeen(address, "flicd", rig.clock[0], connected=True, battery=percent))


def test_low_battery_opens_once_and_closes_when_replaced(rig: Rig) -> None:
    battery(rig, DESK, 10)
    rig.monitor.check()
    rig.monitor.check()
    battery(rig, DESK, 12)
    rig.monitor.check()
    assert rig.sent() == [("front-desk-battery", "On")]
    battery(rig, DESK, 100)
    rig.monitor.check()
    assert rig.sent() == [("front-desk-battery", "On"), ("front-desk-battery", "Off")]


def test_per_button_threshold_overrides_the_default(rig: Rig) -> None:
    battery(rig, DESK, 20)  # default 15 %: fine
    battery(rig, DOOR, 20)  # back-door says 30 %: low
    rig.monitor.check()
    assert rig.sent() == [("back-door-battery", "On")]


def test_a_button_not_seen_for_its_time_raises_and_a_press_clears(rig: Rig) -> None:
    rig.at(599)
    rig.monitor.check()
    assert rig.sent() == []
    rig.at(600)  # back-door: 600 s; front-desk keeps the default of a day
    rig.monitor.check()
    assert rig.sent() == [("back-door-unseen", "On")]
    rig.registry.clicked(DOOR, ClickType.SINGLE, "flicd", rig.clock[0])
    rig.at(601)
    rig.monitor.check()
    assert rig.sent()[-1] == ("back-door-unseen", "Off")
    rig.at(86400)
    rig.monitor.check()
    assert ("front-desk-unseen", "On") in rig.sent()


def test_a_connected_button_is_never_unseen(rig: Rig) -> None:
    rig.registry.seen(ButtonSeen(DOOR, "flicd", T0, connected=True))
    rig.at(7200)
    rig.monitor.check()
    assert rig.sent() == []


def test_a_source_down_longer_than_the_threshold_raises_and_recovery_clears(rig: Rig) -> None:
    rig.sources[0] = SourceView("flicd", "down", T0)
    rig.at(299)
    rig.monitor.check()
    assert rig.sent() == []
    rig.at(300)
    rig.monitor.check()
    rig.sources[0] = SourceView("flicd", "up", rig.clock[0])
    rig.at(301)
    rig.monitor.check()
    assert rig.sent() == [("bridge-1-flicd-down", "On"), ("bridge-1-flicd-down", "Off")]


def test_raised_alerts_survive_a_restart_and_still_close(tmp_path: Path) -> None:
    # Issue 15: this test once expected an Off after the restart (a fresh registry knows no
    # battery); the battery is now remembered, so the restart repeats nothing.
    cfg = config()
    first = make_rig(tmp_path, cfg)
    rig = next(first)
    battery(rig, DESK, 5)
    rig.monitor.check()
    assert rig.sent() == [("front-desk-battery", "On")]
    first.close()
    second = make_rig(tmp_path, cfg)
    again = next(second)
    again.monitor.check()  # a fresh registry knows no battery: the saved 5 % still holds
    again.monitor.check()
    assert again.sent() == []
    battery(again, DESK, 100)  # replaced after the restart: cleared once
    again.monitor.check()
    assert again.sent() == [("front-desk-battery", "Off")]
    second.close()


def test_unseen_and_down_alerts_neither_clear_nor_repeat_across_restarts(tmp_path: Path) -> None:
    cfg = config(door={"unseen_after_s": 600})
    making = make_rig(tmp_path, cfg)
    rig = next(making)
    rig.registry.seen(ButtonSeen(DESK, "flicd", T0, connected=False))  # seen once, at T0
    rig.sources[0] = SourceView("flicd", "down", T0)
    rig.at(86400)
    rig.monitor.check()
    raised = {
        ("front-desk-unseen", "On"),  # seen, then silent for a day
        ("back-door-unseen", "On"),  # never seen at all
        ("bridge-1-flicd-down", "On"),
    }
    assert set(rig.sent()) == raised
    making.close()
    for restart_at in (86400 + 5, 86400 + 10):  # two restarts, each checking at once
        making = make_rig(tmp_path, cfg)
        again = next(making)
        again.sources[0] = SourceView("flicd", "connecting", again.clock[0])
        again.at(restart_at)
        again.monitor.check()
        assert again.sent() == []
        making.close()
    making = make_rig(tmp_path, cfg)
    last = next(making)
    last.at(86400 + 20)
    last.registry.clicked(DOOR, ClickType.SINGLE, "flicd", last.clock[0])
    last.monitor.check()  # the door pressed, flicd up again: those two clear, once each
    assert sorted(last.sent()) == [("back-door-unseen", "Off"), ("bridge-1-flicd-down", "Off")]
    making.close()


def test_the_body_is_a_flic_body_the_default_mapping_understands(rig: Rig) -> None:
    battery(rig, DESK, 3)
    rig.monitor.check()
    (row,) = rig.outbox.due("a", rig.clock[0])
    body = dict(row.body)
    assert body["flic_nameId"] == "front-desk-battery"
    assert body["flic_state"] == "On"
    assert body["info"] == "front-desk: battery 3% (below 15%)"
    assert body["health"] == {
        "check": "battery",
        "subject": "front-desk",
        "value": 3,
        "threshold": 15,
    }
    assert body["button_address"] == DESK


def test_health_off_sends_nothing_and_zero_turns_a_check_off(tmp_path: Path) -> None:
    making = make_rig(tmp_path / "off", config(health={"enabled": False}))
    off = next(making)
    battery(off, DESK, 1)
    off.at(10**6)
    off.monitor.check()
    assert off.sent() == []
    making.close()
    making = make_rig(
        tmp_path / "zero", config(door={"enabled": False}, health={"battery_below": 0})
    )
    zero = next(making)
    battery(zero, DESK, 1)
    zero.at(600)
    zero.monitor.check()
    assert zero.sent() == []
    making.close()


def test_bad_health_settings_are_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        config(health={"battery_below": 120, "check_every_s": 0}, door={"unseen_after_s": -1})
    text = str(caught.value)
    assert "health.battery_below" in text
    assert "health.check_every_s" in text
    assert "button[1].health.unseen_after_s" in text


class HubStatus:
    """What a hub receiver reports on the status page (the hub module's heartbeats)."""

    def __init__(self) -> None:
        self.state = "waiting"

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "detail": ""}


def test_the_runtime_watches_hub_heartbeats_and_sends_to_every_target(tmp_path: Path) -> None:
    from bridge.app.runtime import Runtime

    now = [T0]
    cfg = parse_config(
        {
            "bridge": {"name": "bridge-1", "state_dir": str(tmp_path), "token": "t" * 12},
            "forward": [
                {"url": "http://127.0.0.1:9/a", "name": "a"},
                {"url": "http://127.0.0.1:9/b", "name": "b"},
            ],
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
        }
    )
    runtime = Runtime(cfg, clock=lambda: now[0], sources=[])
    hub = HubStatus()
    runtime.hub = hub
    try:
        runtime.health.check()  # no hub has ever talked to us: nothing is down
        hub.state = "offline"
        now[0] = T0 + timedelta(seconds=10)
        runtime.health.check()  # down from here on
        now[0] = T0 + timedelta(seconds=309)
        runtime.health.check()
        assert runtime.outbox.due("a", now[0]) == []
        now[0] = T0 + timedelta(seconds=310)
        runtime.health.check()
        for target in ("a", "b"):
            (row,) = runtime.outbox.due(target, now[0])
            assert (row.body["flic_nameId"], row.body["flic_state"]) == ("bridge-1-hub-down", "On")
        assert [h["alert"] for h in runtime.status()["health"]] == ["bridge-1-hub-down"]
    finally:
        runtime.outbox.close()
