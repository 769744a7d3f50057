"""Fixtures for the alert server: the real program on a free port, and in-process apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import close_app, create_app
from server.config import load_config
from tests.support.procs import Proc, free_port, python_module, wait_http_ok

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ALERT_SERVER_")}


def cli(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> str:
    """Run `python -m server ARGS --data-dir D` and return its stdout (fails on a non-zero exit)."""
    out = subprocess.run(
        [sys.executable, "-m", "server", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**CLEAN_ENV, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def add_integration(data_dir: Path, name: str, *extra: str) -> dict[str, Any]:
    """`alert-server integration add --json`, parsed."""
    result: dict[str, Any] = json.loads(
        cli("integration", "add", "--name", name, "--json", *extra, data_dir=data_dir)
    )
    return result


@dataclass
class RunningServer:
    """One `alert-server run` subprocess and what a test needs to talk to it."""

    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RunningServer:
        self.port = free_port()
        self.proc = Proc(
            python_module(
                "server", "run", "--data-dir", str(self.data_dir), "--port", str(self.port)
            ),
            log_path=self.log_path,
            env=self.env,
        )
        wait_http_ok(self.url + "/healthz", proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin(self) -> httpx.Client:
        token = (self.data_dir / "admin-token").read_text().strip()
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def post(self, path: str, content: bytes | str, **headers: str) -> httpx.Response:
        return httpx.post(self.url + path, content=content, headers=headers, timeout=10.0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A running alert server on a free port with its own data dir."""
    srv = RunningServer(
        data_dir=tmp_path / "data",
        log_path=tmp_path / "server.log",
        env={
            "ALERT_SERVER_CONFIG": "",
            **{k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
        },
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class InProcess:
    """An app in this process, reached through httpx.ASGITransport."""

    client: httpx.AsyncClient
    admin_token: str
    app: Any

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@pytest.fixture
async def inproc(tmp_path: Path) -> AsyncIterator[InProcess]:
    """`create_app` on a temp data dir with its lifespan running."""
    config = load_config(env={"ALERT_SERVER_DATA_DIR": str(tmp_path / "data")})
    app = create_app(config)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield InProcess(client, app.state.ctx.admin_token, app)
    finally:
        close_app(app)
