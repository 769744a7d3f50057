"""Simulated flicd -> `flic-bridge run` -> `alert-server run`, all real sockets and processes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.flicd_sim import SimThread
from tests.support.procs import wait_until

from .programs import AlertServer, Bridge

FRONT = "80:e4:da:71:23:45"
BACK = "80:e4:da:71:23:46"
SIDE = "80:e4:da:71:23:47"
BUTTONS = [(FRONT, "front-desk"), (BACK, "back-door"), (SIDE, "side-gate")]


@pytest.fixture
def flicd() -> Iterator[SimThread]:
    sim = SimThread(verified=[FRONT, BACK, SIDE])
    sim.start()
    yield sim
    sim.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AlertServer]:
    srv = AlertServer(tmp_path / "server", tmp_path / "server.log")
    yield srv
    srv.stop()


@pytest.fixture
def bridge_for(tmp_path: Path, flicd: SimThread) -> Iterator[list[Bridge]]:
    made: list[Bridge] = []
    yield made
    for bridge in made:
        bridge.stop()


def make_bridge(made: list[Bridge], tmp_path: Path, flicd: SimThread, url: str) -> Bridge:
    bridge = Bridge(tmp_path / "bridge", flicd.sim.port, [url], BUTTONS)
    made.append(bridge)
    return bridge


def wait_watched(bridge: Bridge, flicd: SimThread) -> None:
    wait_until(lambda: bridge.source_state() == "up", what="bridge connected to flicd")
    wait_until(
        lambda: all(flicd.has_channel(address) for address, _ in BUTTONS),
        what="a connection channel for every button",
    )


def states_by_button(server: AlertServer) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in server.inbound():
        out.setdefault(item["body"]["flic_nameId"], []).append(item["body"]["flic_state"])
    return out


def test_single_click_opens_double_click_closes_one_webhook_per_press(
    tmp_path: Path, flicd: SimThread, server: AlertServer, bridge_for: list[Bridge]
) -> None:
    integration = server.add_flic_integration()
    server.start()
    bridge = make_bridge(bridge_for, tmp_path, flicd, server.url + integration["inbound_path"])
    bridge.start()
    wait_watched(bridge, flicd)

    flicd.press(FRONT, "single")
    wait_until(lambda: server.alerts("open"), what="an open alert")
    (alert,) = server.alerts("open")
    assert alert["source_name"] == "front-desk"
    assert alert["description"] == "front-desk button"

    flicd.press(FRONT, "double")
    wait_until(lambda: not server.alerts("open"), what="the alert to close")
    bridge.wait_outbox_empty(delivered=2)

    log = server.inbound()
    assert [(m["status"], m["action"]) for m in log] == [("mapped", "open"), ("mapped", "close")]
    assert [m["body"]["click_type"] for m in log] == ["single", "double"]
    assert all(m["body"]["source"] == "flicd" for m in log)
    assert [a["status"] for a in server.alerts()] == ["closed"]


@pytest.mark.faults
def test_outage_and_sigkill_lose_nothing_and_keep_order_per_button(
    tmp_path: Path, flicd: SimThread, server: AlertServer, bridge_for: list[Bridge]
) -> None:
    integration = server.add_flic_integration()  # the server stays down for now
    bridge = make_bridge(bridge_for, tmp_path, flicd, server.url + integration["inbound_path"])
    bridge.start()
    wait_watched(bridge, flicd)
    presses = {
        FRONT: ["single", "double", "single", "double"],
        BACK: ["hold", "double", "single", "double"],
        SIDE: ["single", "double", "hold", "double"],
    }
    first_half = [(a, kinds[i]) for i in range(2) for a, kinds in presses.items()]
    second_half = [(a, kinds[i]) for i in range(2, 4) for a, kinds in presses.items()]

    for address, kind in first_half:
        flicd.press(address, kind)
    wait_until(lambda: bridge.status()["outbox"]["pending"] == 6, what="6 clicks stored")
    bridge.kill()  # SIGKILL: no cleanup, as a power cut
    wait_until(lambda: not flicd.has_channel(FRONT), what="flicd to notice the bridge is gone")

    bridge.start()
    wait_watched(bridge, flicd)
    assert bridge.status()["outbox"]["pending"] == 6
    for address, kind in second_half:
        flicd.press(address, kind)
    wait_until(lambda: bridge.status()["outbox"]["pending"] == 12, what="12 clicks stored")

    server.start()
    bridge.wait_outbox_empty(delivered=12)

    log = server.inbound()
    assert len(log) == 12
    assert len({m["body"]["event_id"] for m in log}) == 12
    expected = {
        "front-desk": ["On", "Off", "On", "Off"],
        "back-door": ["On", "Off", "On", "Off"],
        "side-gate": ["On", "Off", "On", "Off"],
    }
    assert states_by_button(server) == expected
    for name in expected:
        kinds = [m["body"]["click_type"] for m in log if m["body"]["flic_nameId"] == name]
        address = next(a for a, n in BUTTONS if n == name)
        assert kinds == presses[address]
    assert server.alerts("open") == []
    assert len(server.alerts("closed")) == 6


def test_flicd_restart_then_the_next_press_goes_through(
    tmp_path: Path, flicd: SimThread, server: AlertServer, bridge_for: list[Bridge]
) -> None:
    integration = server.add_flic_integration()
    server.start()
    bridge = make_bridge(bridge_for, tmp_path, flicd, server.url + integration["inbound_path"])
    bridge.start()
    wait_watched(bridge, flicd)

    flicd.stop()
    wait_until(lambda: bridge.source_state() == "down", what="the bridge to notice flicd is gone")
    flicd.start(flicd.sim.port)
    wait_watched(bridge, flicd)
    flicd.press(BACK, "single")

    wait_until(lambda: server.alerts("open"), what="the press after the restart")
    assert [a["source_name"] for a in server.alerts("open")] == ["back-door"]
    assert bridge.proc is not None
    assert "source flicd: connected again" in bridge.proc.log()


def test_a_queued_press_arrives_marked_queued_with_its_real_age(
    tmp_path: Path, flicd: SimThread, server: AlertServer, bridge_for: list[Bridge]
) -> None:
    integration = server.add_flic_integration()
    server.start()
    bridge = make_bridge(bridge_for, tmp_path, flicd, server.url + integration["inbound_path"])
    bridge.start()
    wait_watched(bridge, flicd)

    flicd.press(SIDE, "single", queued_s=600)
    wait_until(lambda: server.inbound(), what="the queued press")

    (message,) = server.inbound()
    body = message["body"]
    assert body["queued"] is True
    assert body["queued_seconds"] == 600
    age_s = (
        datetime.fromisoformat(message["received_at"]) - datetime.fromisoformat(body["pressed_at"])
    ).total_seconds()
    assert 600 <= age_s < 660
    assert server.alerts("open")[0]["source_name"] == "side-gate"
