"""`flic-bridge press --drill` through the real bridge and server: the alert is a drill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.programs import AlertServer, Bridge, cli
from tests.support.flicd_sim import SimThread
from tests.support.procs import wait_until

FRONT = "80:e4:da:71:23:45"
BACK = "80:e4:da:71:23:46"


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread(verified=[FRONT, BACK])
    sim.start()
    yield sim
    sim.close()


def test_press_drill_opens_a_drill_alert_and_a_plain_press_does_not(
    tmp_path: Path, flicd: SimThread
) -> None:
    server = AlertServer(tmp_path / "server", tmp_path / "server.log")
    integration = server.add_flic_integration()
    server.start()
    bridge = Bridge(
        tmp_path / "bridge",
        flicd.sim.port,
        [server.url + integration["inbound_path"]],
        [(FRONT, "front-desk"), (BACK, "back-door")],
    )
    try:
        bridge.start()
        drilled = cli(
            "press", "front-desk", "--drill", "--config", str(bridge.config_path), cwd=tmp_path
        )
        assert drilled.returncode == 0, drilled.stderr
        assert "front-desk single (drill) -> On" in drilled.stdout
        plain = cli("press", "back-door", "--config", str(bridge.config_path), cwd=tmp_path)
        assert plain.returncode == 0, plain.stderr
        wait_until(lambda: len(server.alerts("open")) == 2, what="two open alerts")
        bridge.wait_outbox_empty(delivered=2)

        drills = {a["source_name"]: a["drill"] for a in server.alerts("open")}
        bodies = {m["body"]["flic_nameId"]: m["body"] for m in server.inbound()}
    finally:
        bridge.stop()
        server.stop()
    assert drills == {"front-desk": True, "back-door": False}
    assert bodies["front-desk"]["drill"] is True
    assert "drill" not in bodies["back-door"]  # the contract's body is unchanged for real calls
