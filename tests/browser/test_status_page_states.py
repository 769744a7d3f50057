"""Status-page states no real source can produce here (battery, hub heartbeats), in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.models import ButtonSeen, ClickType, RawClick
from bridge.web.app import create_app
from tests.bridge.factories import T0

TOKEN = "page-token"


class HubReport:
    """What a hub receiver reports through `status()` (the seam the page reads)."""

    def __init__(self, heartbeat_age_s: float) -> None:
        self.heartbeat_age_s = heartbeat_age_s

    def status(self) -> dict[str, Any]:
        at = T0 - timedelta(seconds=self.heartbeat_age_s)
        return {
            "state": "online",
            "detail": "1 hub online",
            "hubs": [
                {"hub_id": "hub-kitchen", "state": "online", "last_heartbeat_at": at.isoformat()}
            ],
        }


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    config = parse_config(
        {
            "bridge": {"state_dir": str(tmp_path / "state"), "token": TOKEN, "name": "pi-7"},
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "forward": [{"url": "http://127.0.0.1:9/hook", "name": "alerts"}],
            "button": [
                {"address": "80:e4:da:71:23:45", "name": "front-desk"},
                {"address": "80:e4:da:71:23:46", "name": "back-door"},
            ],
        }
    )
    runtime = Runtime(config, clock=lambda: T0)
    transport = httpx.ASGITransport(app=create_app(runtime.web))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        yield runtime, client
    runtime.outbox.close()


def row(page: str, name: str) -> str:
    start = page.index(f'data-button="{name}"')
    return page[start : page.index("</tr>", start)]


async def test_low_battery_is_marked_and_connection_shown(
    bridge: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = bridge
    runtime.observe(ButtonSeen("80:e4:da:71:23:45", "flicd", T0, connected=True, battery=12))
    runtime.observe(ButtonSeen("80:e4:da:71:23:46", "flicd", T0, connected=False, battery=87))
    page = (await client.get("/")).text
    assert "low-battery" in row(page, "front-desk")
    assert "12 % low" in row(page, "front-desk")
    assert '<span class="ok">yes</span>' in row(page, "front-desk")
    assert "low" not in row(page, "back-door").replace("80:e4", "")
    assert "87 %" in row(page, "back-door")
    assert '<span class="bad">no</span>' in row(page, "back-door")


async def test_last_click_shows_its_age_and_the_hub_its_last_heartbeat(
    bridge: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = bridge
    await runtime.accept(
        RawClick("80:e4:da:71:23:45", ClickType.HOLD, "hub", T0 - timedelta(seconds=125))
    )
    runtime.hub = HubReport(heartbeat_age_s=42)
    page = (await client.get("/")).text
    assert 'hold <span class="age">2 min ago</span>' in row(page, "front-desk")
    assert "hub-kitchen" in page
    assert '<span class="heartbeat">42 s ago</span>' in page
    assert "1 pending" in page


async def test_dead_letters_show_their_error_and_retry_needs_the_token(
    bridge: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = bridge
    accepted = await runtime.accept(RawClick("80:e4:da:71:23:46", ClickType.SINGLE, "api", T0))
    (due,) = runtime.outbox.due("alerts", T0)
    runtime.outbox.mark_dead(due.seq, "alerts", T0, "HTTP 410: gone for good")
    page = (await client.get("/")).text
    assert "HTTP 410: gone for good" in page
    assert accepted.event_id in page

    refused = await client.post("/ui/outbox/retry", data={"token": "nope"})
    assert refused.status_code == 401
    assert runtime.outbox.stats(T0).dead == 1

    done = await client.post("/ui/outbox/retry", data={"token": TOKEN})
    assert done.status_code == 303
    assert runtime.outbox.stats(T0).dead == 0
    assert runtime.outbox.stats(T0).pending == 1
    shown = (await client.get(done.headers["location"])).text
    assert "1 dead letter(s) sent back to the outbox" in shown


async def test_press_form_refuses_unknown_buttons_and_click_types(
    bridge: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = bridge
    for form, status in (
        ({"token": TOKEN, "button": "nobody"}, 404),
        ({"token": TOKEN, "button": "front-desk", "click": "triple"}, 422),
        ({"button": "front-desk"}, 401),
    ):
        answer = await client.post("/ui/press", data=form)
        assert answer.status_code == status, (form, answer.status_code)
        assert 'class="error"' in answer.text
    assert runtime.outbox.stats(T0).pending == 0
