"""The real `flic-bridge run` under a simulated service manager: READY, watchdog, quarantine."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ops import prometheus
from tests.ops.notify_socket import NotifySocket
from tests.support.procs import Proc, free_port, python_module, running, wait_http_ok, wait_until

TOKEN = "bridge-test-token-123"
INTERVAL_S = 0.1  # WATCHDOG_USEC below is twice this


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


def write_config(tmp_path: Path, port: int, forward_url: str | None = None) -> Path:
    forward = f'[[forward]]\nurl = "{forward_url}"\ntimeout_s = 120\n' if forward_url else ""
    path = tmp_path / "bridge.toml"
    path.write_text(
        f"""
[bridge]
name = "cupboard"
state_dir = "{tmp_path / "state"}"
listen = "127.0.0.1:{port}"
token = "{TOKEN}"

{forward}
[flicd]
enabled = false

[[button]]
address = "80:e4:da:71:23:45"
name = "front-desk"
on = ["single"]
off = ["double"]
"""
    )
    return path


def start_bridge(
    tmp_path: Path, config: Path, ns: NotifySocket, *extra: str, env: dict[str, str] | None = None
) -> Proc:
    return Proc(
        python_module("bridge", "run", "--config", str(config), *extra),
        log_path=tmp_path / "bridge.log",
        env={
            "NOTIFY_SOCKET": ns.path,
            "WATCHDOG_USEC": str(int(INTERVAL_S * 2_000_000)),
            **(env or {}),
        },
    )


def test_bridge_sends_ready_then_periodic_watchdog_and_json_logs(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    proc = start_bridge(tmp_path, config, notify_socket, "--log-format", "json")
    with running(proc):
        notify_socket.wait_for("READY=1")
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)
        notify_socket.wait_for("WATCHDOG=1", times=3)
        assert notify_socket.messages.index("READY=1") < notify_socket.messages.index("WATCHDOG=1")
    assert "STOPPING=1" in notify_socket.drain()
    lines = [line for line in proc.log().splitlines() if line.strip()]
    assert lines, "the bridge logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any("running" in e["message"] for e in entries)
    assert TOKEN not in proc.log()


def test_a_wedged_delivery_loop_stops_the_watchdog_until_it_moves_again(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    # A webhook target that takes connections and never answers: the delivery hangs.
    hanging = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    target_port = hanging.getsockname()[1]
    port = free_port()
    config = write_config(tmp_path, port, f"http://127.0.0.1:{target_port}/inbound/x")
    # An idle delivery loop comes round every second: 3 s without a round means stuck.
    proc = start_bridge(tmp_path, config, notify_socket, env={"FLIC_BRIDGE_WEDGED_AFTER_S": "3"})
    try:
        with running(proc):
            notify_socket.wait_for("WATCHDOG=1", times=40)  # over 4 s of idling...
            assert not [m for m in notify_socket.messages if "wedged" in m]  # ...is not wedged
            pressed = httpx.post(
                f"http://127.0.0.1:{port}/api/press",
                json={"button": "front-desk", "click": "single"},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=10,
            )
            assert pressed.status_code == 202, pressed.text
            wedged = "STATUS=wedged: deliver:127.0.0.1"
            wait_until(
                lambda: any(m.startswith(wedged) for m in notify_socket.drain()),
                what="the wedged status",
            )
            pings = notify_socket.count("WATCHDOG=1")
            # Five watchdog intervals in which the event loop is demonstrably alive...
            for _ in range(5):
                time.sleep(INTERVAL_S)
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
            # ...and not one ping.
            assert notify_socket.count("WATCHDOG=1") == pings

            hanging.close()  # the target goes away: the attempt fails, the loop moves on
            notify_socket.wait_for("STATUS=running")
            notify_socket.wait_for("WATCHDOG=1", times=pings + 2)
    finally:
        hanging.close()


def test_a_damaged_outbox_is_quarantined_and_the_bridge_starts(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    state = tmp_path / "state"
    state.mkdir()
    (state / "outbox.sqlite3").write_bytes(b"\x00half-written page after a power cut" * 300)
    proc = start_bridge(tmp_path, config, notify_socket)
    with running(proc):
        notify_socket.wait_for("READY=1")
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)
        pressed = httpx.post(
            f"http://127.0.0.1:{port}/api/press",
            json={"button": "front-desk", "click": "single"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert pressed.status_code == 202, pressed.text
        metrics = prometheus.parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        assert prometheus.total(metrics, "flic_bridge_clicks_total", click_type="single") == 1
    quarantined = list(state.glob("outbox.sqlite3.corrupt-*"))
    assert [p.name for p in quarantined if not p.name.endswith(("-wal", "-shm"))], list(
        state.iterdir()
    )
    assert "failed its integrity check" in proc.log()
    assert proc.popen.returncode == 0
