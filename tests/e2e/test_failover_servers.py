"""A bridge with `urls` over two real alert-servers: the first SIGKILLed mid-burst, no press lost.

Each server has its own SQLite database here (nothing shared yet), so the presses are counted
per server: together they must be exactly the burst, each once, in the order pressed per button.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.faults.support import UNLIMITED
from tests.support.procs import Proc, free_port, python_module, start_bridge, wait_until

BUTTONS = {
    "80:e4:da:71:23:01": "ward-1",
    "80:e4:da:71:23:02": "ward-2",
    "80:e4:da:71:23:03": "ward-3",
}
TOKEN = "failover-bridge-token"


def start_server(server: AlertServer, log_name: str) -> Proc:
    proc = Proc(
        python_module(
            "server", "run", "--data-dir", str(server.data_dir), "--port", str(server.port)
        ),
        log_path=server.data_dir.parent / log_name,
        env={**CLEAN_ENV, **UNLIMITED},
    )
    wait_until(lambda: proc.alive() and _ok(server.url + "/healthz"), timeout=30, what=server.url)
    return proc


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).is_success
    except httpx.HTTPError:
        return False


def write_bridge(workdir: Path, port: int, urls: list[str]) -> Path:
    lines = [
        "[bridge]",
        'name = "failover-bridge"',
        f'state_dir = "{workdir / "state"}"',
        f'listen = "127.0.0.1:{port}"',
        f'token = "{TOKEN}"',
        "[flicd]",
        "enabled = false",
        "[hub]",
        "enabled = false",
        "[[forward]]",
        "urls = [" + ", ".join(f'"{u}"' for u in urls) + "]",
        "timeout_s = 5",
    ]
    for address, name in BUTTONS.items():
        lines += ["[[button]]", f'address = "{address}"', f'name = "{name}"']
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bridge.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def press(bridge_url: str, round_no: int) -> list[tuple[str, str]]:
    """One press of every button; (button, event_id) in the order pressed."""
    out = []
    with httpx.Client(timeout=10.0) as client:
        for name in BUTTONS.values():
            response = client.post(
                bridge_url + "/api/press",
                json={"button": name, "click": "single"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert response.status_code == 202, (round_no, response.text)
            out.append((name, response.json()["event_id"]))
    return out


def logged(server: AlertServer) -> list[tuple[str, str]]:
    """(button, event_id) of every inbound message the server logged, oldest first."""
    return [(m["body"]["flic_nameId"], m["body"]["event_id"]) for m in server.inbound()]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[AlertServer, AlertServer]]:
    pair = (
        AlertServer(tmp_path / "a" / "server", tmp_path / "a.log"),
        AlertServer(tmp_path / "b" / "server", tmp_path / "b.log"),
    )
    yield pair
    for server in pair:
        server.stop()


def test_sigkill_of_the_first_server_mid_burst_moves_every_press_to_the_second_once(
    tmp_path: Path, servers: tuple[AlertServer, AlertServer]
) -> None:
    first, second = servers
    urls = [s.url + s.add_flic_integration("wards")["inbound_path"] for s in servers]
    first.proc, second.proc = start_server(first, "a1.log"), start_server(second, "b.log")
    port = free_port()
    bridge_url = f"http://127.0.0.1:{port}"
    config = write_bridge(tmp_path / "bridge", port, urls)
    bridge = start_bridge(config, tmp_path / "bridge", bridge_url, CLEAN_ENV)
    pressed: list[tuple[str, str]] = []
    try:
        for n in range(12):  # a burst: the bridge is still delivering when the kill comes
            pressed += press(bridge_url, n)
        wait_until(lambda: _count(first) >= 1, timeout=60, what="the first to take some")
        # Freeze the bridge so nothing is in flight, let the first server finish what it holds,
        # then kill it with SIGKILL (the power cut) while presses are still queued.
        os.kill(bridge.pid, signal.SIGSTOP)
        try:
            _settled(first)
            first.proc.kill()
            first.proc.stop()
            first.proc = None
        finally:
            os.kill(bridge.pid, signal.SIGCONT)
        for n in range(12, 24):  # the burst goes on after the kill
            pressed += press(bridge_url, n)
        wait_until(
            lambda: _status(bridge_url)["outbox"]["pending"] == 0,
            timeout=90,
            what="every press delivered",
        )
        (target,) = _status(bridge_url)["targets"]
        assert target["url"] == urls[1]  # the status says which URL is in use
        assert target["urls"] == urls
        assert target["delivered"] == len(pressed)
        assert target["dead"] == 0
    finally:
        bridge.stop()
    first.proc = start_server(first, "a2.log")  # read what the killed server kept
    on_first, on_second = logged(first), logged(second)
    assert on_first, "the first server took the start of the burst"
    assert on_second, "the second server took the rest"
    assert len(pressed) == 72
    # Every press exactly once across the two servers: none lost, none sent to both.
    assert sorted(on_first + on_second) == sorted(pressed)
    assert not {e for _, e in on_first} & {e for _, e in on_second}
    # Per button: the first server has the start of its presses, the second the rest, in order.
    for name in BUTTONS.values():
        mine = [e for b, e in pressed if b == name]
        got = [e for b, e in on_first if b == name] + [e for b, e in on_second if b == name]
        assert got == mine, name
    # One alert per button on each server; the second server's appended the rest.
    for server in servers:
        alerts = server.alerts("open")
        assert sorted(a["source_name"] for a in alerts) == sorted({b for b, _ in logged(server)})


def _count(server: AlertServer) -> int:
    return len(server.admin("/api/v1/inbound", limit=1000)["items"])


def _settled(server: AlertServer) -> None:
    """Wait until the server's inbound log stops growing (the bridge is frozen)."""
    seen: list[int] = []

    def stable() -> bool:
        seen.append(_count(server))
        return len(seen) >= 4 and len(set(seen[-4:])) == 1

    wait_until(stable, timeout=30, interval=0.3, what="the first server to settle")


def _status(bridge_url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(bridge_url + "/api/status", timeout=5.0).json()
    return result
