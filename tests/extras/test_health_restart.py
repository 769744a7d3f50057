"""Health alerts across a real bridge restart: the real bridge and the real alert server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.support.procs import Proc, Runs, free_port, start_bridge, wait_until

DESK = "80:e4:da:71:23:45"
DOOR = "80:e4:da:71:23:46"
SIDE = "80:e4:da:71:23:47"
TOKEN = "health-restart-token"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AlertServer]:
    srv = AlertServer(tmp_path / "server", tmp_path / "server.log").start()
    try:
        yield srv
    finally:
        srv.stop()


class HubBridge(Runs):
    """`flic-bridge run` with a hub receiver, health checked often, forwarding to the server."""

    def __init__(self, workdir: Path, inbound_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Proc | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            "[bridge]",
            'name = "bridge-1"',
            f'state_dir = "{workdir / "state"}"',
            f'listen = "127.0.0.1:{self.port}"',
            f'token = "{TOKEN}"',
            "[flicd]",
            "enabled = false",
            "[hub]",
            "enabled = true",
            "[health]",
            "check_every_s = 0.2",
            "[[forward]]",
            f'url = "{inbound_url}"',
            "[[button]]",
            f'address = "{DESK}"',
            'name = "front-desk"',
            "[[button]]",
            f'address = "{DOOR}"',
            'name = "back-door"',
            "health = { unseen_after_s = 1 }",
            "[[button]]",
            f'address = "{SIDE}"',
            'name = "side-door"',
        ]
        (workdir / "bridge.toml").write_text("\n".join(lines) + "\n")

    def start(self) -> HubBridge:
        self.proc = start_bridge(self.workdir / "bridge.toml", self.workdir, self.url, CLEAN_ENV)
        return self

    def heartbeat(self, *buttons: tuple[str, int]) -> None:
        body = {
            "type": "heartbeat",
            "hub_id": "hub-1",
            "buttons": [{"bdaddr": a, "battery": pct, "connected": True} for a, pct in buttons],
        }
        answer = httpx.post(
            self.url + "/hub/events",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text

    def battery(self, address: str) -> int | None:
        status = httpx.get(self.url + "/api/status", timeout=5).json()
        found: int | None = next(b["battery"] for b in status["buttons"] if b["address"] == address)
        return found

    def drained(self) -> bool:
        box = httpx.get(self.url + "/api/status", timeout=5).json()["outbox"]
        return bool(box["pending"] == 0)


def messages(server: AlertServer) -> list[tuple[str, str]]:
    """(flic_nameId, flic_state) of every message the server logged, oldest first."""
    return [(m["body"]["flic_nameId"], m["body"]["flic_state"]) for m in server.inbound()]


def open_alerts(server: AlertServer) -> dict[str, Any]:
    return {a["source_name"]: a for a in server.alerts("open")}


def test_a_restart_neither_repeats_nor_forgets_battery_and_unseen_alerts(
    server: AlertServer, tmp_path: Path
) -> None:
    integration = server.add_flic_integration()
    bridge = HubBridge(tmp_path / "bridge", server.url + integration["inbound_path"]).start()
    try:
        bridge.heartbeat((DESK, 9))  # low battery; the back door is never seen at all
        wait_until(
            lambda: set(open_alerts(server)) == {"front-desk-battery", "back-door-unseen"},
            what="the battery and unseen alerts open",
        )
        wait_until(bridge.drained, what="the outbox drained")
        before = open_alerts(server)

        bridge.kill()  # a power cut: no shutdown code runs
        bridge.start()
        # before any report: the status page shows the battery the bridge remembered
        assert bridge.battery(DESK) == 9
        # After the restart: the desk reports the same battery, the side door a low one. Its
        # alert arriving (and the outbox drained) shows the restarted bridge checked health
        # with what it remembered, and sent whatever it was going to send.
        bridge.heartbeat((DESK, 9), (SIDE, 5))
        wait_until(lambda: "side-door-battery" in open_alerts(server), what="the marker alert")
        wait_until(bridge.drained, what="the outbox drained after the restart")

        got = messages(server)
        assert sorted(got[:2]) == [("back-door-unseen", "On"), ("front-desk-battery", "On")]
        assert got[2:] == [("side-door-battery", "On")]  # no Off, no second On
        after = open_alerts(server)
        for name in ("front-desk-battery", "back-door-unseen"):
            assert after[name]["id"] == before[name]["id"]  # the same alert, not a new one
            assert after[name]["append_count"] == 0

        bridge.heartbeat((DESK, 100))  # the battery replaced: the alert closes, once
        wait_until(lambda: "front-desk-battery" not in open_alerts(server), what="closed")
        wait_until(bridge.drained, what="the outbox drained")
        assert [m for m in messages(server) if m[0] == "front-desk-battery"] == [
            ("front-desk-battery", "On"),
            ("front-desk-battery", "Off"),
        ]
        assert "back-door-unseen" in open_alerts(server)
    finally:
        bridge.stop()
