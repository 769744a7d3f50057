"""The two real programs as subprocesses, and the simulated flicd, for end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.procs import (
    Proc,
    Runs,
    free_port,
    python_module,
    start_bridge,
    wait_http_ok,
    wait_until,
)

CLEAN_ENV = {
    **{k: "" for k in os.environ if k.startswith(("ALERT_SERVER_", "FLIC_BRIDGE_"))},
    "ALERT_SERVER_CONFIG": "",
}


@dataclass
class AlertServer(Runs):
    """`alert-server run` on a fixed port (so a restart comes back where the bridge posts)."""

    data_dir: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_flic_integration(self, name: str = "front-office") -> dict[str, Any]:
        out = subprocess.run(
            [
                *python_module("server", "integration", "add", "--name", name, "--json"),
                "--data-dir",
                str(self.data_dir),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **CLEAN_ENV},
        )
        assert out.returncode == 0, out.stderr
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    def start(self) -> AlertServer:
        self.proc = Proc(
            python_module(
                "server", "run", "--data-dir", str(self.data_dir), "--port", str(self.port)
            ),
            log_path=self.log_path,
            env=CLEAN_ENV,
        )
        wait_http_ok(self.url + "/healthz", proc=self.proc)
        return self

    def admin(self, path: str, **params: Any) -> Any:
        token = (self.data_dir / "admin-token").read_text().strip()
        response = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
        response.raise_for_status()
        return response.json()

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        items: list[dict[str, Any]] = self.admin("/api/v1/alerts", **params)["items"]
        return items

    def inbound(self) -> list[dict[str, Any]]:
        """The inbound log oldest first, each with its parsed body."""
        items = self.admin("/api/v1/inbound", limit=1000)["items"]
        out = []
        for item in reversed(items):
            full = self.admin(f"/api/v1/inbound/{item['message_id']}")
            out.append({**item, "body": json.loads(full["raw_body"])})
        return out


@dataclass
class Bridge(Runs):
    """`flic-bridge run` with a config written into `workdir`."""

    workdir: Path
    flicd_port: int
    forward_urls: list[str]
    buttons: list[tuple[str, str]]  # (address, name)
    port: int = field(default_factory=free_port)
    token: str = "e2e-bridge-token"
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "bridge.toml"

    def write_config(self) -> None:
        lines = [
            "[bridge]",
            'name = "e2e-bridge"',
            f'state_dir = "{self.workdir / "state"}"',
            f'listen = "127.0.0.1:{self.port}"',
            f'token = "{self.token}"',
            "[flicd]",
            f"port = {self.flicd_port}",
        ]
        for url in self.forward_urls:
            lines += ["[[forward]]", f'url = "{url}"']
        for address, name in self.buttons:
            lines += [
                "[[button]]",
                f'address = "{address}"',
                f'name = "{name}"',
                f'info = "{name} button"',
            ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self) -> Bridge:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self.proc = start_bridge(self.config_path, self.workdir, self.url, CLEAN_ENV)
        return self

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(self.url + "/api/status", timeout=5.0).json()
        return result

    def source_state(self, name: str = "flicd") -> str:
        return next(s["state"] for s in self.status()["sources"] if s["name"] == name)

    def wait_outbox_empty(self, *, delivered: int, timeout: float = 60.0) -> None:
        def done() -> bool:
            box = self.status()["outbox"]
            return box["pending"] == 0 and box["delivered"] >= delivered

        try:
            wait_until(done, timeout=timeout, what="bridge outbox to drain")
        except AssertionError:
            raise AssertionError(
                f"{self.status()}\n{self.proc.log() if self.proc else ''}"
            ) from None


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`flic-bridge ARGS` run from `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **CLEAN_ENV, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
