"""SIGKILL of `flic-bridge` while it drains a backlog (the e2e suite covers a kill with the
target down): nothing acknowledged is lost, each button's clicks keep their order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.procs import wait_until

from .support import BridgeProc, ScriptedTarget

pytestmark = pytest.mark.faults

BUTTONS = [("80:e4:da:71:30:01", "hall"), ("80:e4:da:71:30:02", "kitchen")]


@pytest.fixture
def target() -> Iterator[ScriptedTarget]:
    # Accept the first 10, then hold the 11th open so the kill lands mid-delivery.
    made = ScriptedTarget(lambda n: "ok" if n <= 10 else ("hold" if n == 11 else "ok"))
    yield made
    made.close()


def test_sigkill_mid_drain_then_restart_delivers_everything_in_order(
    tmp_path: Path, target: ScriptedTarget
) -> None:
    down = ScriptedTarget(lambda n: "500")  # the backlog builds while the target refuses
    bridge = BridgeProc(tmp_path / "bridge", down.url, BUTTONS).start()
    try:
        pressed: dict[str, list[str]] = {"hall": [], "kitchen": []}
        for i in range(30):
            name = BUTTONS[i % 2][1]
            response = bridge.press(name, "single" if i % 4 < 2 else "double")
            assert response.status_code == 202
            pressed[name].append(response.json()["event_id"])
        bridge.stop()
    finally:
        down.close()

    bridge.target_url = target.url  # same target name: the stored rows go there
    bridge.start()
    wait_until(lambda: len(target.hits) >= 11, what="delivery to reach the held request")
    bridge.kill()  # SIGKILL with 20 rows pending and one in flight
    target.release()

    bridge.start()
    try:
        bridge.wait_drained(delivered=30)
        arrivals = target.first_arrivals()
        assert sorted(b["event_id"] for b in arrivals) == sorted(
            pressed["hall"] + pressed["kitchen"]
        )
        for name, ids in pressed.items():
            assert [b["event_id"] for b in arrivals if b["flic_nameId"] == name] == ids
        # At most the click in flight at the kill came twice (same Idempotency-Key).
        repeated = {e for e in target.event_ids() if target.event_ids().count(e) > 1}
        assert repeated <= set(target.event_ids("hold"))
        assert bridge.outbox()["dead"] == 0
    finally:
        bridge.stop()
