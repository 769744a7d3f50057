"""A real bridge reporting to a real alert-server: listed, silent opens an alert, back closes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.support.procs import Proc, free_port, python_module, start_bridge, wait_until


def bridge_config(workdir: Path, port: int, server: AlertServer) -> Path:
    token = (server.data_dir / "admin-token").read_text().strip()
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bridge.toml"
    path.write_text(
        "\n".join(
            [
                "[bridge]",
                'name = "ward-3"',
                f'state_dir = "{workdir / "state"}"',
                f'listen = "127.0.0.1:{port}"',
                'token = "reports-bridge-token"',
                f'report_url = "{server.url}/api/v1/bridges"',
                f'report_token = "{token}"',
                "report_every_s = 1",
                "[flicd]",
                "enabled = false",
                "[[button]]",
                'address = "80:e4:da:71:23:45"',
                'name = "bed-1"',
            ]
        )
        + "\n"
    )
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AlertServer]:
    server = AlertServer(tmp_path / "server", tmp_path / "server.log")
    server.proc = Proc(
        python_module(
            "server", "run", "--data-dir", str(server.data_dir), "--port", str(server.port)
        ),
        log_path=server.log_path,
        env={**CLEAN_ENV, "ALERT_SERVER_SERVER_BRIDGE_SILENT_AFTER_S": "3"},
    )
    yield server
    server.stop()


def test_a_bridge_that_stops_reporting_opens_an_alert_that_closes_when_it_is_back(
    tmp_path: Path, server: AlertServer
) -> None:
    wait_until(lambda: (server.data_dir / "admin-token").exists(), timeout=30, what="token")
    wait_until(lambda: _up(server), timeout=30, what="the server")
    port = free_port()
    config = bridge_config(tmp_path / "bridge", port, server)
    bridge = start_bridge(config, tmp_path / "bridge", f"http://127.0.0.1:{port}", CLEAN_ENV)
    try:
        listed = wait_until(lambda: server.admin("/api/v1/bridges")["items"], what="a report")
        (row,) = listed
        assert row["name"] == "ward-3"
        assert row["status"] == "ok"
        assert [b["name"] for b in row["buttons"]] == ["bed-1"]
        assert row["outbox_pending"] == 0
    finally:
        bridge.stop()  # silent from now on

    (alert,) = wait_until(lambda: _bridge_alerts(server, "open"), timeout=30, what="an alert")
    assert alert["source_name"] == "bridge:ward-3"
    assert server.admin("/api/v1/bridges")["items"][0]["status"] == "silent"

    bridge = start_bridge(config, tmp_path / "bridge", f"http://127.0.0.1:{port}", CLEAN_ENV)
    try:
        (closed,) = wait_until(lambda: _bridge_alerts(server, "closed"), what="the alert closed")
        assert closed["id"] == alert["id"]
        assert _bridge_alerts(server, "open") == []
        assert server.admin("/api/v1/bridges")["items"][0]["status"] == "ok"
    finally:
        bridge.stop()


def _up(server: AlertServer) -> bool:
    try:
        server.admin("/healthz")
    except Exception:
        return False
    return True


def _bridge_alerts(server: AlertServer, status: str) -> list[dict[str, object]]:
    return [a for a in server.alerts(status) if str(a["source_name"]).startswith("bridge:")]
