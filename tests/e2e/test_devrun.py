"""`make run` as a newcomer meets it: both up, one press opens an alert, Ctrl-C stops both."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import httpx

from tests.support.procs import Proc, free_port, wait_http_ok, wait_until

from .programs import CLEAN_ENV, cli

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_then_press_front_desk_opens_an_alert(tmp_path: Path) -> None:
    server_port, bridge_port = free_port(), free_port()
    env = {
        **CLEAN_ENV,
        "FLIC_EDGE_SERVER_PORT": str(server_port),
        "FLIC_EDGE_BRIDGE_PORT": str(bridge_port),
    }
    devrun = Proc(
        [sys.executable, str(ROOT / "scripts" / "devrun.py")],
        log_path=tmp_path / "devrun.log",
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_until(
            lambda: "flic-bridge press front-desk single" in devrun.log(),
            timeout=60,
            what="devrun to print its summary",
        )
        summary = devrun.log()
        printed = summary[summary.index("flic-edge is running") :]
        first_url = next(line for line in printed.splitlines() if "http://" in line)
        assert "station board" in first_url
        board_link = first_url.split()[-1]
        assert board_link.startswith(f"http://127.0.0.1:{server_port}/board/link/")
        assert f"http://127.0.0.1:{server_port}/" in summary
        assert f"http://127.0.0.1:{bridge_port}/" in summary
        assert "var/server/admin-token" in summary
        assert f"http://127.0.0.1:{server_port}/inbound/" in summary

        pressed = cli("press", "front-desk", "single", cwd=tmp_path)
        assert pressed.returncode == 0, pressed.stderr
        assert "front-desk single -> On" in pressed.stdout

        token = (tmp_path / "var" / "server" / "admin-token").read_text().strip()

        def open_alerts() -> list[dict[str, object]]:
            response = httpx.get(
                f"http://127.0.0.1:{server_port}/api/v1/alerts",
                params={"status": "open"},
                headers={"Authorization": f"Bearer {token}"},
            )
            items: list[dict[str, object]] = response.json()["items"]
            return items

        wait_until(open_alerts, what="the demo alert to open")
        assert [a["source_name"] for a in open_alerts()] == ["front-desk"]

        # The printed board link opens the board with no login, and its stream has the press.
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            assert browser.get(board_link).url.path == "/board"
            with browser.stream("GET", f"http://127.0.0.1:{server_port}/api/v1/stream") as live:
                lines = live.iter_lines()
                snapshot = next(line for line in lines if line.startswith("data:"))
        assert '"source_name":"front-desk"' in snapshot
        assert '"status":"open"' in snapshot

        # The README's curl line: the Flic guide's body, straight to the integration URL.
        url = (tmp_path / "var" / "integration-url").read_text().strip()
        guide_body = '"flic_nameId": "lobby", "flic_state": "On", "info": "Lobby",'
        curl_form = {"Content-Type": "application/x-www-form-urlencoded"}  # what `curl -d` sends
        answer = httpx.post(url, content=guide_body, headers=curl_form)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "mapped"
        wait_until(lambda: len(open_alerts()) == 2, what="the curl alert to open")
        assert sorted(str(a["source_name"]) for a in open_alerts()) == ["front-desk", "lobby"]
    finally:
        devrun.popen.send_signal(signal.SIGINT)  # Ctrl-C
        code = devrun.stop(timeout=30)
    assert code == 0, devrun.log()
    assert "devrun: stopped" in devrun.log()
    for port in (server_port, bridge_port):
        try:
            wait_http_ok(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
        except AssertionError:
            continue
        raise AssertionError(f"port {port} still answers after Ctrl-C")
