"""flicd vanishing and returning, again and again: the bridge keeps serving, reconnects, and
neither loses nor doubles a press (tests/e2e covers one plain restart)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.flicd_sim import SimThread
from tests.support.procs import wait_until

from .support import BridgeProc, ScriptedTarget

pytestmark = pytest.mark.faults

HALL, DOOR = "80:e4:da:71:32:01", "80:e4:da:71:32:02"
BUTTONS = [(HALL, "hall"), (DOOR, "door")]


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread(verified=[HALL, DOOR])
    sim.start()
    yield sim
    sim.close()


def channels(flicd: SimThread, address: str) -> int:
    async def count() -> int:
        return len(flicd.sim.channels_for(address))

    return flicd.call(count())


def source_state(bridge: BridgeProc) -> str:
    return next(s["state"] for s in bridge.status()["sources"] if s["name"] == "flicd")


def test_flicd_flapping_loses_and_doubles_nothing(tmp_path: Path, flicd: SimThread) -> None:
    target = ScriptedTarget(lambda n: "ok")
    bridge = BridgeProc(tmp_path / "bridge", target.url, BUTTONS, flicd_port=flicd.sim.port)
    bridge.start()
    port = flicd.sim.port
    try:
        wait_until(lambda: channels(flicd, HALL) == channels(flicd, DOOR) == 1, what="channels")
        flicd.press(HALL, "single")
        wait_until(lambda: len(target.hits) == 1, what="the first press")

        flicd.stop()
        wait_until(lambda: source_state(bridge) == "down", what="the bridge to see flicd gone")
        # Without flicd the bridge still takes presses from other paths and delivers them.
        assert bridge.press("door", "single").status_code == 202
        wait_until(lambda: len(target.hits) == 2, what="the API press while flicd is away")

        for _ in range(3):  # flicd flaps: back, gone, back ...
            flicd.start(port)
            wait_until(lambda: source_state(bridge) == "up", what="the bridge to reconnect")
            flicd.stop()
            wait_until(lambda: source_state(bridge) == "down", what="the bridge to see it go")
        flicd.start(port)
        wait_until(lambda: channels(flicd, HALL) == channels(flicd, DOOR) == 1, what="channels")

        # A press the button kept while flicd was away arrives marked queued, with its age.
        flicd.press(HALL, "double", queued_s=40)
        flicd.press(DOOR, "double")
        wait_until(lambda: len(target.first_arrivals()) == 4, what="the presses after the flaps")
        bridge.wait_drained(delivered=4)

        arrivals = target.first_arrivals()
        assert [(b["flic_nameId"], b["flic_state"]) for b in arrivals] == [
            ("hall", "On"),
            ("door", "On"),
            ("hall", "Off"),
            ("door", "Off"),
        ]
        assert [b["source"] for b in arrivals] == ["flicd", "api", "flicd", "flicd"]
        assert (arrivals[2]["queued"], arrivals[2]["queued_seconds"]) == (True, 40)
        assert len(target.hits) == 4  # no press came twice through a stale channel
        assert "source flicd: connected again" in bridge.log()
    finally:
        bridge.stop()
        target.close()
