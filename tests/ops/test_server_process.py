"""The real `alert-server` under a simulated service manager: READY, watchdog, backups, damage."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops import prometheus
from tests.ops.notify_socket import NotifySocket
from tests.support.procs import Proc, free_port, python_module, running, wait_http_ok, wait_until

INTERVAL_S = 0.1  # WATCHDOG_USEC below is twice this
ON = '"flic_nameId": "lobby", "flic_state": "On", "info": "Lobby",'
OFF = '"flic_nameId": "lobby", "flic_state": "Off", "info": "Lobby",'
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ALERT_SERVER_")}


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env=CLEAN_ENV,
    )


def add_integration(data_dir: Path, name: str) -> dict[str, Any]:
    out = cli(data_dir, "integration", "add", "--name", name, "--json")
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


class Server:
    def __init__(self, tmp_path: Path, ns: NotifySocket, env: dict[str, str] | None = None):
        self.data_dir = tmp_path / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = Proc(
            python_module(
                "server",
                "run",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                "--log-format",
                "json",
            ),
            log_path=tmp_path / f"server-{self.port}.log",
            env={
                **{k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
                "NOTIFY_SOCKET": ns.path,
                "WATCHDOG_USEC": str(int(INTERVAL_S * 2_000_000)),
                **(env or {}),
            },
        )

    def post(self, path: str, body: str) -> httpx.Response:
        return httpx.post(self.url + path, content=body, timeout=60)

    def alerts(self) -> list[dict[str, Any]]:
        token = (self.data_dir / "admin-token").read_text().strip()
        answer = httpx.get(
            self.url + "/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


def test_server_sends_ready_once_listening_then_periodic_watchdog(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    server = Server(tmp_path, notify_socket)
    with running(server.proc):
        notify_socket.wait_for("READY=1")
        # READY means listening with the database open: the first request must succeed.
        assert httpx.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
        notify_socket.wait_for("WATCHDOG=1", times=3)
    assert "STOPPING=1" in notify_socket.drain()
    entries = [json.loads(line) for line in server.proc.log().splitlines() if line.strip()]
    assert any(e["logger"] == "server.migrations" for e in entries)


def test_a_wedged_database_writer_stops_the_watchdog_until_it_moves_again(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    path = add_integration(tmp_path / "data", "lobby")["inbound_path"]
    server = Server(tmp_path, notify_socket, env={"ALERT_SERVER_WEDGED_AFTER_S": "2"})
    with running(server.proc), ThreadPoolExecutor(max_workers=1) as pool:
        notify_socket.wait_for("WATCHDOG=1", times=30)  # over 3 s of an idle writer...
        assert not [m for m in notify_socket.messages if "wedged" in m]  # ...is not wedged
        # Another process holds the write lock: the server's single writer blocks on it.
        locker = sqlite3.connect(server.data_dir / "alert-server.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            pending = pool.submit(server.post, path, ON)
            wait_until(
                # The escalation scheduler waits on the same writer: it may be named too.
                lambda: any(
                    m.startswith("STATUS=wedged: inbound-writer") for m in notify_socket.drain()
                ),
                what="the wedged status",
            )
            pings = notify_socket.count("WATCHDOG=1")
            # Five watchdog intervals in which the event loop is demonstrably alive...
            for _ in range(5):
                time.sleep(INTERVAL_S)
                assert httpx.get(server.url + "/openapi.json", timeout=5).is_success
            # ...and not one ping.
            assert notify_socket.count("WATCHDOG=1") == pings
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        answer = pending.result(timeout=60)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "mapped"
        notify_socket.wait_for("STATUS=running")
        notify_socket.wait_for("WATCHDOG=1", times=pings + 2)


def test_backup_while_running_then_restore_brings_the_data_back(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    data_dir = tmp_path / "data"
    path = add_integration(data_dir, "lobby")["inbound_path"]
    saved = tmp_path / "backups" / "nightly.db"
    saved.parent.mkdir()

    server = Server(tmp_path, notify_socket)
    with running(server.proc):
        wait_http_ok(server.url + "/healthz", proc=server.proc)
        assert server.post(path, ON).json()["status"] == "mapped"
        out = cli(data_dir, "backup", str(saved))  # while the server runs
        assert out.returncode == 0, out.stderr
        assert server.post(path, OFF).json()["action"] == "close"
        assert [a["status"] for a in server.alerts()] == ["closed"]
        metrics = prometheus.parse(httpx.get(server.url + "/metrics", timeout=5).text)
        assert prometheus.total(metrics, "alert_server_inbound_messages_total") == 2
        assert prometheus.total(metrics, "alert_server_alerts", status="closed") == 1

    out = cli(data_dir, "restore", str(saved))
    assert out.returncode == 0, out.stderr
    assert "the previous database is kept as" in out.stdout

    server = Server(tmp_path, notify_socket)
    with running(server.proc):
        wait_http_ok(server.url + "/healthz", proc=server.proc)
        assert [(a["source_name"], a["status"]) for a in server.alerts()] == [("lobby", "open")]
        again = server.post(path, ON).json()  # the integration's token came back too
        assert again["status"] == "mapped_appended"


def test_backup_and_restore_say_what_is_wrong(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    out = cli(data_dir, "backup", str(tmp_path / "x.db"))
    assert out.returncode == 1
    assert "no database at" in out.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    out = cli(data_dir, "restore", str(junk))
    assert out.returncode == 1
    assert "is not a usable database backup" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_damaged_database_is_quarantined_and_the_server_starts_fresh(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "alert-server.db").write_bytes(b"\x00torn write after a power cut" * 500)
    server = Server(tmp_path, notify_socket)
    with running(server.proc):
        notify_socket.wait_for("READY=1")
        assert httpx.get(server.url + "/healthz", timeout=5).is_success
        quarantined = [p.name for p in data_dir.glob("alert-server.db.corrupt-*")]
        assert len(quarantined) == 1, list(data_dir.iterdir())
        path = add_integration(data_dir, "lobby")["inbound_path"]
        assert server.post(path, ON).json()["status"] == "mapped"
    errors = [
        e
        for e in map(json.loads, server.proc.log().splitlines())
        if e["level"] == "ERROR" and "integrity check" in e["message"]
    ]
    assert len(errors) == 1


async def test_a_plugin_worker_heartbeat_gates_the_watchdog_too(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    import asyncio

    import uvicorn

    from edgecommon.sdnotify import Heartbeat, Notifier
    from server.app import create_app, default_plugins
    from server.app.service import NotifyingServer, serve
    from server.config import load_config

    clock = [0.0]
    escalation = Heartbeat("escalation", clock=lambda: clock[0])

    def worker_plugin(app: Any, ctx: Any) -> None:
        ctx.heartbeats.append(escalation)

    config = load_config(env={"ALERT_SERVER_DATA_DIR": str(tmp_path / "data")})
    app = create_app(config, plugins=[*default_plugins(), worker_plugin])
    port = free_port()
    server = NotifyingServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"),
        Notifier(notify_socket.path, watchdog_usec=int(INTERVAL_S * 2_000_000)),
    )
    task = asyncio.create_task(serve(server, app.state.ctx, wedged_after_s=5.0))

    async def until(line: str, times: int = 1) -> None:
        for _ in range(2000):
            if notify_socket.count(line) >= times:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never saw {line!r}: {notify_socket.messages[-5:]}")

    try:
        await until("READY=1")
        await until("WATCHDOG=1", 2)
        clock[0] += 60  # the escalation loop stops coming round
        await until("STATUS=wedged: escalation")
        escalation.beat()
        await until("STATUS=running")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act for another user")
def test_commands_run_with_sudo_leave_every_file_to_the_service_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    service_uid, service_gid = 4321, 4321  # the unit's user; the test runs as root, like sudo
    os.chown(data_dir, service_uid, service_gid)
    add_integration(data_dir, "lobby")
    for args in (["admin-token"], ["backup", str(tmp_path / "copy.db")]):
        out = cli(data_dir, *args)
        assert out.returncode == 0, out.stderr
    out = cli(data_dir, "restore", str(tmp_path / "copy.db"))
    assert out.returncode == 0, out.stderr
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in data_dir.iterdir()}
    assert "admin-token" in owners
    assert "alert-server.db" in owners
    assert set(owners.values()) == {(service_uid, service_gid)}, owners
