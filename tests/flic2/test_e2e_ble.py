"""End to end: simulated Flic 2 -> BLE source -> bridge runtime and outbox -> real alert-server."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.sources.ble.source import BleSource, pair_ble
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio
from tests.server.conftest import RunningServer, add_integration
from tests.support.procs import free_port


@pytest.fixture
def alert_server(tmp_path: Path) -> Iterator[RunningServer]:
    srv = RunningServer(
        data_dir=tmp_path / "server",
        log_path=tmp_path / "server.log",
        env={"ALERT_SERVER_CONFIG": "", **{k: "" for k in os.environ if k.startswith("ALERT_")}},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def until(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    async with asyncio.timeout(timeout_s):
        while not (value := await check()):
            await asyncio.sleep(0.05)
    return value


async def test_presses_live_and_queued_open_and_close_an_alert(
    tmp_path: Path,
    alert_server: RunningServer,
    radio: SimRadio,
    button: SimButton,
    verify_key: bytes,
) -> None:
    integration = add_integration(alert_server.data_dir, "front desk")
    state_dir = tmp_path / "bridge"
    button.hold_for_pairing()
    await pair_ble(
        state_dir,
        out=lambda _: None,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )
    config = parse_config(
        {
            "bridge": {
                "name": "bridge-e2e",
                "state_dir": str(state_dir),
                "listen": f"127.0.0.1:{free_port()}",
                "token": "e2e-token-1234",
            },
            "forward": [{"url": alert_server.url + integration["inbound_path"]}],
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "button": [
                {
                    "address": ADDRESS,
                    "name": "front-desk",
                    "on": ["single"],
                    "off": ["double"],
                    "info": "Front desk",
                }
            ],
        }
    )
    source = BleSource(ADDRESS, state_dir, radio.transport, verify_key=verify_key)
    runtime = Runtime(config, sources=[source], rand=lambda: 0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    token = (alert_server.data_dir / "admin-token").read_text().strip()
    admin = httpx.AsyncClient(
        base_url=alert_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )

    async def alerts() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await admin.get("/api/v1/alerts")).json()["items"]
        return items

    async def ready() -> bool:
        return button.link is not None and button.link.ready

    try:
        await until(ready, "the bridge to verify the button")
        button.press("single")
        opened = await until(alerts, "an alert")
        assert [(a["status"], a["title"]) for a in opened] == [("open", "front-desk pressed")]

        radio.drop(ADDRESS)  # out of range: the double click waits in the button
        button.press("double")
        button.tick(20.0)
        radio.restore(ADDRESS)

        async def closed() -> list[dict[str, Any]]:
            return [a for a in await alerts() if a["status"] == "closed"]

        await until(closed, "the queued double click to close it")
        log = (await admin.get("/api/v1/inbound")).json()["items"]
        assert sorted(m["status"] for m in log) == ["mapped", "mapped"]
        assert len(await alerts()) == 1
        bodies = []
        for message in reversed(log):  # oldest first
            one = (await admin.get(f"/api/v1/inbound/{message['message_id']}")).json()
            bodies.append(json.loads(one["raw_body"]))
        assert [(b["click_type"], b["flic_state"], b["source"], b["queued"]) for b in bodies] == [
            ("single", "On", "ble", False),
            ("double", "Off", "ble", True),
        ]
        assert bodies[1]["queued_seconds"] >= 20
    finally:
        await admin.aclose()
        stop.set()
        await task
