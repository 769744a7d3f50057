"""Fault-test parts: a scripted webhook target, and the two programs started with test settings."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.programs import CLEAN_ENV
from tests.support.procs import (
    Proc,
    Runs,
    free_port,
    python_module,
    start_bridge,
    wait_http_ok,
    wait_until,
)

BRIDGE_TOKEN = "faults-bridge-token"
# Bursts in these tests are far above an integration's default rate limit.
UNLIMITED = {
    "ALERT_SERVER_SERVER_INBOUND_RATE_PER_S": "100000",
    "ALERT_SERVER_SERVER_INBOUND_BURST": "100000",
}


@dataclass(frozen=True)
class Hit:
    """One request the target saw, and what it did with it."""

    body: dict[str, Any]
    answer: str  # "ok", "500", "hang", "slow"
    at: float


class ScriptedTarget:
    """A webhook target on a free port; `plan(n)` says what to do with request number n (1-based).

    Answers: "ok" (202), "500", "hang" (hold the request `hang_s`, then 202 to nobody),
    "slow" (202 after `slow_s`), "hold" (wait until `release()`, then 202).
    """

    def __init__(self, plan: Callable[[int], str], *, hang_s: float = 3.0, slow_s: float = 0.3):
        self.plan = plan
        self.hits: list[Hit] = []
        self.hang_s = hang_s
        self.slow_s = slow_s
        self._lock = threading.Lock()
        self._released = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with owner._lock:
                    answer = owner.plan(len(owner.hits) + 1)
                    owner.hits.append(Hit(body, answer, time.monotonic()))
                if answer == "hang":
                    time.sleep(owner.hang_s)
                elif answer == "slow":
                    time.sleep(owner.slow_s)
                elif answer == "hold":
                    owner._released.wait(30)
                status = 500 if answer == "500" else 202
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the bridge gave up on this request (timeout) or was killed

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def release(self) -> None:
        self._released.set()

    def event_ids(self, answer: str | None = None) -> list[str]:
        with self._lock:
            return [h.body["event_id"] for h in self.hits if answer is None or h.answer == answer]

    def first_arrivals(self) -> list[dict[str, Any]]:
        """Each event's body once, in the order it first arrived."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for hit in self.hits:
                if hit.body["event_id"] not in seen:
                    seen.add(hit.body["event_id"])
                    out.append(hit.body)
        return out

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@dataclass
class BridgeProc(Runs):
    """`flic-bridge run` with one named target, so its outbox rows survive a URL change."""

    workdir: Path
    target_url: str
    buttons: list[tuple[str, str]]
    flicd_port: int | None = None
    state_dir: Path | None = None
    timeout_s: float = 10.0
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        state = self.state_dir or self.workdir / "state"
        lines = [
            "[bridge]",
            'name = "faults-bridge"',
            f'state_dir = "{state}"',
            f'listen = "127.0.0.1:{self.port}"',
            f'token = "{BRIDGE_TOKEN}"',
            "[flicd]",
            f"enabled = {'true' if self.flicd_port else 'false'}",
            f"port = {self.flicd_port or 5551}",
            "[[forward]]",
            'name = "alerts"',
            f'url = "{self.target_url}"',
            f"timeout_s = {self.timeout_s}",
        ]
        for address, name in self.buttons:
            lines += ["[[button]]", f'address = "{address}"', f'name = "{name}"']
        path = self.workdir / "bridge.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> BridgeProc:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        self.proc = start_bridge(config, self.workdir, self.url, CLEAN_ENV)
        return self

    def press(self, button: str, click: str = "single") -> httpx.Response:
        return httpx.post(
            self.url + "/api/press",
            json={"button": button, "click": click},
            headers={"Authorization": f"Bearer {BRIDGE_TOKEN}"},
            timeout=10.0,
        )

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(self.url + "/api/status", timeout=5.0).json()
        return result

    def outbox(self) -> dict[str, Any]:
        box: dict[str, Any] = self.status()["outbox"]
        return box

    def log(self) -> str:
        return (self.workdir / "bridge.log").read_text(errors="replace")

    def wait_drained(self, delivered: int, timeout: float = 60.0) -> None:
        def done() -> bool:
            box = self.outbox()
            return box["pending"] == 0 and box["delivered"] >= delivered

        try:
            wait_until(done, timeout=timeout, what="the bridge outbox to drain")
        except AssertionError:
            raise AssertionError(f"{self.status()}\n{self.log()}") from None


def start_server(data_dir: Path, port: int, log_path: Path) -> Proc:
    """`alert-server run` with the rate limit lifted."""
    proc = Proc(
        python_module("server", "run", "--data-dir", str(data_dir), "--port", str(port)),
        log_path=log_path,
        env={**CLEAN_ENV, **UNLIMITED},
    )
    wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc
