"""The seams other parts build on: plugins, background tasks, storage failures, the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, Request

from server.alerts.events import AlertChange
from server.app import core_plugin
from server.context import AppContext, get_ctx
from tests.server.conftest import add_integration, cli, in_process

ON = '"flic_nameId": "desk", "flic_state": "On",'


async def test_a_plugin_adds_a_router_a_subscriber_and_a_task(tmp_path: Path) -> None:
    started = asyncio.Event()
    seen: list[AlertChange] = []

    def plugin(app: FastAPI, ctx: AppContext) -> None:
        router = APIRouter()

        @router.get("/api/v1/hello")
        async def hello() -> dict[str, str]:
            return {"hello": "world"}

        app.include_router(router)

        async def remember(change: AlertChange) -> None:
            seen.append(change)

        ctx.events.subscribe("remember", remember)

        async def ticker() -> None:
            started.set()
            await asyncio.Event().wait()

        ctx.add_task("ticker", ticker)

    async with in_process(tmp_path, plugins=(core_plugin, plugin)) as app:
        await asyncio.wait_for(started.wait(), 10)
        assert (await app.client.get("/api/v1/hello")).json() == {"hello": "world"}
        path = (await app.add())["inbound_path"]
        await app.client.post(path, content=ON)
        await app.ctx.events.drain()
        assert [c.kind for c in seen] == ["open"]
        task = app.ctx.tasks["ticker"]
    assert task.cancelled()


@dataclass(frozen=True, slots=True)
class Greeting:
    text: str


@dataclass(frozen=True, slots=True)
class NeverProvided:
    pass


async def test_a_plugin_keeps_its_state_on_the_context_and_its_route_reads_it(
    tmp_path: Path,
) -> None:
    def plugin(app: FastAPI, ctx: AppContext) -> None:
        ctx.provide(Greeting("first"))
        ctx.provide(Greeting("hello"))  # providing again replaces (a reload does this)
        router = APIRouter()

        @router.get("/api/v1/greeting")
        async def greeting(request: Request) -> dict[str, str]:
            return {"text": get_ctx(request).part(Greeting).text}

        app.include_router(router)

    async with in_process(tmp_path, plugins=(core_plugin, plugin)) as app:
        assert (await app.client.get("/api/v1/greeting")).json() == {"text": "hello"}
        with pytest.raises(LookupError, match="no NeverProvided here"):
            app.ctx.part(NeverProvided)


async def test_a_storage_failure_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    async with in_process(tmp_path) as app:
        path = (await app.add())["inbound_path"]
        await app.ctx.db.run(app.ctx.store.db.execute, "PRAGMA query_only = 1")
        refused = await app.client.post(path, content=ON)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert "nothing was stored" in refused.json()["detail"]
        await app.ctx.db.run(app.ctx.store.db.execute, "PRAGMA query_only = 0")
        assert (await app.admin_get("/api/v1/inbound"))["items"] == []
        accepted = await app.client.post(path, content=ON)
        assert accepted.json()["action"] == "open"


def test_cli_adds_a_generic_integration_with_its_mapping(tmp_path: Path) -> None:
    mapping = {
        "source_name": {"field": "host"},
        "status": {"field": "state"},
        "open_when": {"equals": "down"},
        "close_when": {"equals": "up"},
    }
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    created = add_integration(
        tmp_path / "d", "pinger", "--kind", "generic", "--mapping", "@" + str(tmp_path / "m.json")
    )
    assert created["kind"] == "generic"
    assert created["mapping"]["open_when"] == {"equals": "down"}
    plain = cli("integration", "add", "--name", "desk", data_dir=tmp_path / "d")
    assert plain.strip().startswith("/inbound/")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["integration", "add", "--name", "x", "--kind", "generic"], "needs a mapping"),
        (["integration", "add", "--name", "x", "--mapping", '{"status": 1}'], "invalid --mapping"),
    ],
)
def test_cli_names_what_is_wrong(tmp_path: Path, args: list[str], problem: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server", *args, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert problem in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_reports_every_config_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nport = "x"\nwho = 1\n')
    out = subprocess.run(
        [sys.executable, "-m", "server", "admin-token", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "[server] port" in out.stderr
    assert "[server] who" in out.stderr


async def test_the_inbound_log_keeps_90_days_by_default(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    async with in_process(tmp_path, clock=lambda: now[0]) as app:
        path = (await app.add())["inbound_path"]
        old = (await app.client.post(path, content=ON)).json()
        now[0] += timedelta(days=60)
        recent = (await app.client.post(path, content=ON)).json()

    now[0] += timedelta(days=31)
    async with in_process(tmp_path, clock=lambda: now[0]) as app:

        async def purged() -> list[str]:
            while True:
                items = (await app.admin_get("/api/v1/inbound"))["items"]
                if len(items) < 2:
                    return [m["message_id"] for m in items]
                await asyncio.sleep(0.05)

        assert await asyncio.wait_for(purged(), 10) == [recent["message_id"]]
        alert = await app.admin_get(f"/api/v1/alerts/{old['alert_id']}")
        assert [e["kind"] for e in alert["timeline"]] == ["open", "append"]
