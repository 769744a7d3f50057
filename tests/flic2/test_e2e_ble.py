"""End to end: simulated Flic 2 -> BLE source -> bridge runtime and outbox -> real alert-server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.flic2.bridge_run import bridge_over_ble, until
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio
from tests.server.conftest import RunningServer, add_integration


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


async def test_presses_live_and_queued_open_and_close_an_alert(
    tmp_path: Path,
    alert_server: RunningServer,
    button: SimButton,
    verify_key: bytes,
) -> None:
    integration = add_integration(alert_server.data_dir, "front desk")
    mapping = {"name": "front-desk", "on": ["single"], "off": ["double"], "info": "Front desk"}
    url = alert_server.url + integration["inbound_path"]
    async with bridge_over_ble(tmp_path, button, verify_key, url, mapping) as radio:
        await check_alert_flow(alert_server, radio, button)


async def check_alert_flow(alert_server: RunningServer, radio: SimRadio, button: SimButton) -> None:
    token = (alert_server.data_dir / "admin-token").read_text().strip()
    admin = httpx.AsyncClient(
        base_url=alert_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )

    async def alerts() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await admin.get("/api/v1/alerts")).json()["items"]
        return items

    try:
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
