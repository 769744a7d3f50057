"""Fixtures for the alert server: the real program on a free port, and in-process apps."""

from __future__ import annotations

import contextlib
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
from server.context import AppContext
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

    def add(self, name: str) -> dict[str, Any]:
        """A new flic integration through the admin API (faster than the CLI)."""
        with self.admin() as admin:
            answer = admin.post("/api/v1/integrations", json={"name": name})
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def post(self, path: str, content: bytes | str, **headers: str) -> httpx.Response:
        return httpx.post(self.url + path, content=content, headers=headers, timeout=10.0)


def _serve(where: Path) -> Iterator[RunningServer]:
    srv = RunningServer(
        data_dir=where / "data",
        log_path=where / "server.log",
        env={k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A running alert server on a free port with its own data dir (tests that restart it)."""
    yield from _serve(tmp_path)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One running alert server per test module; each test makes its own integrations."""
    yield from _serve(tmp_path_factory.mktemp("shared-server"))


@dataclass
class InProcess:
    """An app in this process, reached through httpx.ASGITransport."""

    client: httpx.AsyncClient
    app: Any

    @property
    def ctx(self) -> AppContext:
        ctx: AppContext = self.app.state.ctx
        return ctx

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.admin_token}"}

    async def add(self, name: str = "desk", **body: Any) -> dict[str, Any]:
        """Create an integration through the admin API."""
        answer = await self.client.post(
            "/api/v1/integrations", json={"name": name, **body}, headers=self.admin_headers
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def admin_get(self, path: str, **params: Any) -> Any:
        answer = await self.client.get(path, params=params, headers=self.admin_headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


@contextlib.asynccontextmanager
async def in_process(
    data_dir: Path, env: dict[str, str] | None = None, **kwargs: Any
) -> AsyncIterator[InProcess]:
    """`create_app` on `data_dir` (plus env-style settings) with its lifespan running."""
    config = load_config(env={"ALERT_SERVER_DATA_DIR": str(data_dir), **(env or {})})
    app = create_app(config, **kwargs)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield InProcess(client, app)
    finally:
        close_app(app)


@pytest.fixture
async def inproc(tmp_path: Path, engine: dict[str, str]) -> AsyncIterator[InProcess]:
    """The default app in-process on a temp data dir (and the engine's database)."""
    async with in_process(tmp_path / "data", engine) as running:
        yield running
