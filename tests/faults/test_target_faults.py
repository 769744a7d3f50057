"""The webhook target answering 500, timing out, or slowly: the bridge backs off and catches up."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support.procs import wait_until

from .support import BridgeProc, ScriptedTarget

pytestmark = pytest.mark.faults

BUTTONS = [("80:e4:da:71:31:01", "lobby"), ("80:e4:da:71:31:02", "garage")]


def plan(n: int) -> str:
    """Three 500s, one request that outlives the bridge's timeout, then slow answers."""
    if n <= 3:
        return "500"
    if n == 4:
        return "hang"
    return "slow"


def test_500s_timeouts_and_slow_answers_are_retried_until_all_arrive_in_order(
    tmp_path: Path,
) -> None:
    target = ScriptedTarget(plan, hang_s=3.0, slow_s=0.2)
    bridge = BridgeProc(tmp_path / "bridge", target.url, BUTTONS, timeout_s=1.0).start()
    try:
        pressed: dict[str, list[str]] = {"lobby": [], "garage": []}
        for i in range(10):
            name = BUTTONS[i % 2][1]
            response = bridge.press(name, "single" if i % 4 < 2 else "double")
            assert response.status_code == 202
            pressed[name].append(response.json()["event_id"])
        wait_until(
            lambda: bridge.status()["targets"][0]["failing_since"] is not None,
            what="the status page to show the failing target",
        )
        bridge.wait_drained(delivered=10)

        arrivals = target.first_arrivals()
        for name, ids in pressed.items():
            assert [b["event_id"] for b in arrivals if b["flic_nameId"] == name] == ids
        assert len(arrivals) == 10
        box = bridge.outbox()
        assert (box["dead"], box["pending"]) == (0, 0)
        assert bridge.status()["targets"][0]["failing_since"] is None
        # Every refused or timed-out attempt was for a click that arrived in the end.
        failures = target.event_ids("500") + target.event_ids("hang")
        assert len(failures) == 4
        assert set(failures) <= {b["event_id"] for b in arrivals}
        log = bridge.log()
        assert "delivery failed" in log
        assert "delivering again" in log
    finally:
        bridge.stop()
        target.close()


def test_retries_of_one_failing_click_back_off_further_each_time(tmp_path: Path) -> None:
    target = ScriptedTarget(lambda n: "500" if n <= 4 else "ok")
    bridge = BridgeProc(tmp_path / "bridge", target.url, BUTTONS[:1]).start()
    try:
        first = bridge.press("lobby").json()["event_id"]
        bridge.wait_drained(delivered=1, timeout=30)
        hits = [h for h in target.hits if h.body["event_id"] == first]
        assert [h.answer for h in hits] == ["500", "500", "500", "500", "ok"]
        gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
        # Capped exponential backoff with half jitter: 0.25-0.5 s, 0.5-1 s, 1-2 s, 2-4 s.
        assert gaps[0] >= 0.2
        assert gaps[-1] > 2 * gaps[0]
    finally:
        bridge.stop()
        target.close()
