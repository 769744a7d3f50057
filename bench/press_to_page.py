"""`press_to_page`: a press at the simulated flicd until the email is in a real SMTP inbox,
and until the alert is on the board's stream (`GET /api/v1/stream`)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.e2e import BUTTONS, _wait_channels, bridge_toml
from bench.programs import SERVER_ENV, Program, add_integration, free_port, spawn, start_bridge
from tests.escalation.receivers import smtp_server
from tests.support.flicd_sim import SimThread
from tests.support.sse import SseReader


def _wait_beyond(count: Callable[[], int], seen: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while count() <= seen:
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s} s")
        time.sleep(0.0005)


def _setup(server: Program, token: str, inbound_path: str) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        user = api.post("/api/v1/users", json={"name": "Desk", "email": "desk@bench.test"})
        steps = [{"after_s": 0, "notify": [{"user": user.json()["id"]}]}]
        policy = api.post("/api/v1/escalation-policies", json={"name": "bench", "steps": steps})
        integrations = api.get("/api/v1/integrations").json()["items"]
        (mine,) = [i for i in integrations if i["inbound_path"] == inbound_path]
        api.patch(
            f"/api/v1/integrations/{mine['id']}", json={"escalation_policy_id": policy.json()["id"]}
        ).raise_for_status()


SERVER_RUN = (sys.executable, "-m", "server", "run")


def bench_press_to_page(workdir: Path, repo: Path, *, presses: int) -> dict[str, Any]:
    """The `press_to_page` line: p50/p99 to the inbox and to the board's stream."""
    data_dir = workdir / "server"
    inbound_path = add_integration(data_dir, "bench-page")
    sim = SimThread(verified=BUTTONS)
    page_ms: list[float] = []
    board_ms: list[float] = []
    with smtp_server() as (box, smtp_port):
        server: Program | None = None
        bridge: Program | None = None
        stream: SseReader | None = None
        try:
            flicd_port = sim.start()
            port = free_port()
            env = {
                **SERVER_ENV,
                "ALERT_SERVER_SMTP_HOST": "127.0.0.1",
                "ALERT_SERVER_SMTP_PORT": str(smtp_port),
                "ALERT_SERVER_SMTP_FROM": "alerts@bench.test",
                "ALERT_SERVER_ESCALATION_TICK_S": "0.05",
                "ALERT_SERVER_ESCALATION_THROTTLE_MAX": "100000",  # one person, many pages
            }
            server = spawn(
                [*SERVER_RUN, "--data-dir", str(data_dir), "--port", str(port)],
                url=f"http://127.0.0.1:{port}",
                log=workdir / "server.log",
                env=env,
                cwd=repo,
            )
            token = (data_dir / "admin-token").read_text().strip()  # made by the first start
            _setup(server, token, inbound_path)
            bport = free_port()
            toml = bridge_toml(
                workdir / "bridge-state", bport, flicd_port, server.url + inbound_path
            )
            bridge = start_bridge(workdir / "bridge", toml, bport, repo)
            _wait_channels(sim)
            stream = SseReader(
                server.url + "/api/v1/stream", headers={"Authorization": f"Bearer {token}"}
            ).start()
            for i in range(presses):
                address = BUTTONS[i % len(BUTTONS)]
                changes = stream.count_of("alert")
                mails, events = box.count(), changes()
                started = time.perf_counter()
                sim.press(address, "single")
                _wait_beyond(changes, events)
                board_ms.append((time.perf_counter() - started) * 1000)
                _wait_beyond(box.count, mails)
                page_ms.append((time.perf_counter() - started) * 1000)
                closes = changes()
                sim.press(address, "double")  # close it again, outside the measurement
                _wait_beyond(changes, closes)
        finally:
            if stream is not None:
                stream.close()
            for program in (bridge, server):
                if program is not None:
                    program.stop()
            sim.close()
    return {
        "name": "press_to_page",
        "presses": presses,
        "page_p50_ms": round(statistics.median(page_ms), 2),
        "page_p99_ms": round(statistics.quantiles(page_ms, n=100)[98], 2),
        "board_p50_ms": round(statistics.median(board_ms), 2),
        "board_p99_ms": round(statistics.quantiles(board_ms, n=100)[98], 2),
        "path": "simulated flicd -> flic-bridge -> alert-server -> escalation (tick 0.05 s) "
        "-> SMTP inbox (aiosmtpd); and -> GET /api/v1/stream",
    }
