"""`alert-server run` under a simulated service manager: SIGHUP reloads, a wedged worker."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.notify_socket import NotifySocket
from tests.ops.test_server_process import add_integration
from tests.support.procs import Proc, free_port, python_module, running, wait_until

INTERVAL_S = 0.1  # WATCHDOG_USEC below is twice this


def press(info: str = "Lobby") -> str:
    return json.dumps({"flic_nameId": "lobby", "flic_state": "On", "info": info})


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


def start(
    tmp_path: Path, ns: NotifySocket, config: Path, module: str = "server", **env: str
) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        python_module(
            module,
            "run",
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(port),
            "--log-format",
            "json",
        ),
        log_path=tmp_path / f"server-{port}.log",
        env={
            **{k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
            "NOTIFY_SOCKET": ns.path,
            "WATCHDOG_USEC": str(int(INTERVAL_S * 2_000_000)),
            **env,
        },
    )
    return proc, f"http://127.0.0.1:{port}"


def log_entries(proc: Proc) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.log().splitlines() if line.startswith("{")]


def messages(proc: Proc, level: str) -> list[str]:
    return [e["message"] for e in log_entries(proc) if e["level"] == level]


def hang_up(proc: Proc, ns: NotifySocket, reloads: int) -> None:
    """SIGHUP, then wait for the reload's RELOADING=1 ... READY=1."""
    proc.popen.send_signal(signal.SIGHUP)
    ns.wait_for("RELOADING=1", times=reloads)
    ns.wait_for("READY=1", times=reloads + 1)


def test_sighup_applies_a_new_body_limit_and_rate_limit_and_names_restart_keys(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    path = add_integration(tmp_path / "data", "lobby")["inbound_path"]
    config = tmp_path / "alert-server.toml"
    config.write_text("[server]\ninbound_max_body_bytes = 100000\n")
    proc, url = start(tmp_path, notify_socket, config)
    with running(proc):
        notify_socket.wait_for("READY=1")
        big = press("x" * 3000)
        assert httpx.post(url + path, content=big, timeout=10).status_code == 202
        config.write_text(
            "[server]\ninbound_max_body_bytes = 1000\ninbound_burst = 1\n"
            "inbound_rate_per_s = 0.001\ninbound_retention_days = 7\n"
            "[mqtt]\nport = 1884\n"
        )
        hang_up(proc, notify_socket, reloads=1)
        answer = httpx.post(url + path, content=big, timeout=10)
        assert answer.status_code == 413, answer.text
        # The bucket now holds one message, and that refused one spent it: the next must wait.
        limited = httpx.post(url + path, content=press(), timeout=10)
        assert limited.status_code == 429, limited.text
        assert "Retry-After" in limited.headers
    warnings = [m for m in messages(proc, "WARNING") if "after a restart" in m]
    assert len(warnings) == 1, warnings
    assert "[mqtt] port" in warnings[0]
    assert "[server] inbound_retention_days" in warnings[0]
    assert "inbound_max_body_bytes" not in warnings[0]


def test_sighup_with_a_broken_file_logs_every_problem_and_keeps_the_old_config(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    path = add_integration(tmp_path / "data", "lobby")["inbound_path"]
    config = tmp_path / "alert-server.toml"
    config.write_text("[server]\ninbound_max_body_bytes = 1000\n")
    proc, url = start(tmp_path, notify_socket, config)
    with running(proc):
        notify_socket.wait_for("READY=1")
        config.write_text(
            '[server]\ninbound_max_body_bytes = "lots"\nlog_level = "LOUD"\n[smtpp]\nhost = "x"\n'
        )
        hang_up(proc, notify_socket, reloads=1)
        # Still serving, still with the old limit.
        assert httpx.post(url + path, content=press("x" * 3000), timeout=10).status_code == 413
        assert httpx.post(url + path, content=press(), timeout=10).status_code == 202
        assert proc.alive()
    errors = messages(proc, "ERROR")
    assert "config reload: 3 problem(s), keeping the running config" in errors
    assert any(m.startswith("config reload: [server] inbound_max_body_bytes:") for m in errors)
    assert any(m.startswith("config reload: [server] log_level:") for m in errors)
    assert any(m.startswith("config reload: [smtpp]: unknown section") for m in errors)


def test_a_wedged_escalation_scheduler_stops_the_watchdog_pings(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    config = tmp_path / "alert-server.toml"
    config.write_text("[escalation]\ntick_s = 0.2\n")
    wedge = tmp_path / "wedge"
    proc, url = start(
        tmp_path,
        notify_socket,
        config,
        "tests.ops.wedge_server",
        ALERT_SERVER_WEDGED_AFTER_S="2",
        WEDGE_FILE=str(wedge),
    )
    with running(proc):
        notify_socket.wait_for("WATCHDOG=1", times=30)  # over 3 s of idle loops: not wedged
        assert not [m for m in notify_socket.messages if "wedged" in m]
        wedge.touch()
        wait_until(
            lambda: any(
                m.startswith("STATUS=wedged: escalation-scheduler") for m in notify_socket.drain()
            ),
            what="the escalation scheduler reported wedged",
        )
        pings = notify_socket.count("WATCHDOG=1")
        for _ in range(5):  # five watchdog intervals with a demonstrably live event loop...
            time.sleep(INTERVAL_S)
            assert httpx.get(url + "/healthz", timeout=5).is_success
        assert notify_socket.count("WATCHDOG=1") == pings  # ...and not one ping
    wedged = [m for m in messages(proc, "ERROR") if m.startswith("work is wedged")]
    assert "inbound-writer" not in wedged[0]  # the database writer was fine all along
