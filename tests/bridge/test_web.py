"""The bridge's HTTP surface in process (httpx.ASGITransport), on a real outbox in tmp_path."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.models import ClickType, RawClick
from bridge.web.app import create_app

from .factories import T0

TOKEN = "web-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_runtime(tmp_path: Path, **bridge: str) -> Runtime:
    config = parse_config(
        {
            "bridge": {"state_dir": str(tmp_path / "state"), "token": TOKEN, **bridge},
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "forward": [{"url": "http://127.0.0.1:9/hook", "name": "alerts"}],
            "button": [
                {"address": "80:e4:da:71:23:45", "name": "front-desk", "info": "Front desk"},
            ],
        }
    )
    return Runtime(config)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    runtime = make_runtime(tmp_path)
    transport = httpx.ASGITransport(app=create_app(runtime.web))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        yield runtime, client
    runtime.outbox.close()


async def test_press_without_the_token_is_refused(app: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, client = app
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        response = await client.post("/api/press", json={"button": "front-desk"}, headers=headers)
        assert response.status_code == 401
        assert "token" in response.json()["error"]
    assert runtime.outbox.stats(T0).pending == 0


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 422, "JSON"),
        (b'{"button": "front-desk", "click": "triple"}', 422, "click"),
        (b'{"click": "single"}', 422, "button"),
        (b'{"button": "front-desk", "colour": 1}', 422, "colour"),
        (b'{"button": "nobody"}', 404, "nobody"),
        (b"x" * 70_000, 413, "body over"),
    ],
)
async def test_a_bad_press_gets_a_clear_4xx(
    app: tuple[Runtime, httpx.AsyncClient], body: bytes, status: int, fragment: str
) -> None:
    runtime, client = app
    response = await client.post("/api/press", content=body, headers=AUTH)
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert runtime.outbox.stats(T0).pending == 0


async def test_a_press_is_stored_and_shown(app: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, client = app
    response = await client.post(
        "/api/press", json={"button": "front-desk", "click": "double"}, headers=AUTH
    )
    assert response.status_code == 202
    answer = response.json()
    assert (answer["button"], answer["click"], answer["state"]) == ("front-desk", "double", "Off")
    (row,) = runtime.outbox.rows()
    assert (row.event_id, row.target, row.source, row.state) == (
        answer["event_id"],
        "alerts",
        "api",
        "pending",
    )
    status = (await client.get("/api/status")).json()
    assert status["bridge"] == "bridge-1"
    assert status["outbox"]["pending"] == 1
    (button,) = status["buttons"]
    assert button["name"] == "front-desk"
    assert button["last_click"]["click_type"] == "double"
    assert set(button) >= {"name", "address", "connected", "battery", "last_click"}
    page = (await client.get("/")).text
    assert "front-desk" in page
    assert "1 pending" in page


async def test_a_stranger_is_accepted_named_and_shown_as_unconfigured(
    app: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = app
    hinted = RawClick("80:e4:da:00:00:07", ClickType.HOLD, "hub", T0, name_hint="Kitchen")
    assert not (await runtime.accept(hinted)).duplicate
    response = await client.post("/api/press", json={"button": "80:E4:DA:00:00:08"}, headers=AUTH)
    assert response.status_code == 202
    assert response.json()["state"] == "On"
    buttons = {b["name"]: b for b in (await client.get("/api/status")).json()["buttons"]}
    assert buttons["Kitchen"]["configured"] is False
    assert buttons["80:e4:da:00:00:08"]["configured"] is False
    assert "(unconfigured)" in (await client.get("/")).text


async def test_a_repeated_event_id_is_stored_once(app: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, _ = app
    click = RawClick("80:e4:da:71:23:45", ClickType.SINGLE, "hub", T0, event_id="hub-1")
    first, again = await runtime.accept(click), await runtime.accept(click)
    assert (first.event_id, first.duplicate) == ("hub-1", False)
    assert (again.event_id, again.duplicate) == ("hub-1", True)
    assert len(runtime.outbox.rows()) == 1


async def test_an_unmapped_click_type_is_kept_but_not_forwarded(
    app: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = app
    response = await client.post(
        "/api/press", json={"button": "front-desk", "click": "up"}, headers=AUTH
    )
    assert response.status_code == 202
    assert response.json()["state"] is None
    assert runtime.outbox.has_event(response.json()["event_id"])
    assert runtime.outbox.rows() == []


async def test_health_and_metrics(app: tuple[Runtime, httpx.AsyncClient]) -> None:
    _, client = app
    await client.post("/api/press", json={"button": "front-desk"}, headers=AUTH)
    assert (await client.get("/healthz")).json()["status"] == "ok"
    metrics = (await client.get("/metrics")).text
    assert 'flic_bridge_clicks_total{source="api",click_type="single"} 1' in metrics
    assert 'flic_bridge_outbox_pending{target="alerts"} 1' in metrics
    assert "flic_bridge_outbox_depth 1" in metrics


def test_without_a_configured_token_one_is_made_private_and_kept(tmp_path: Path) -> None:
    config = parse_config({"bridge": {"state_dir": str(tmp_path / "s")}})
    first = Runtime(config)
    first.outbox.close()
    again = Runtime(config)
    again.outbox.close()
    token_file = tmp_path / "s" / "token"
    assert first.token == again.token == token_file.read_text().strip()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


async def test_presses_for_a_target_taken_out_of_the_config_are_kept_and_shown(
    tmp_path: Path,
) -> None:
    def runtime_with(*targets: str) -> Runtime:
        config = parse_config(
            {
                "bridge": {"state_dir": str(tmp_path / "state"), "token": TOKEN},
                "flicd": {"enabled": False},
                "hub": {"enabled": False},
                "forward": [{"url": f"http://127.0.0.1:9/{t}", "name": t} for t in targets],
                "button": [{"address": "80:e4:da:71:23:45", "name": "front-desk"}],
            }
        )
        return Runtime(config)

    before = runtime_with("alerts", "old-pager")
    pressed = await before.accept(
        RawClick("80:e4:da:71:23:45", ClickType.SINGLE, "api", T0, event_id="press-1")
    )
    before.outbox.close()

    after = runtime_with("alerts")
    transport = httpx.ASGITransport(app=create_app(after.web))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        status = (await client.get("/api/status")).json()
        page = (await client.get("/")).text
    after.outbox.close()
    back = runtime_with("alerts", "old-pager")
    due = back.outbox.due("old-pager", back.clock())
    back.outbox.close()

    targets = {t["name"]: t for t in status["targets"]}
    assert (targets["alerts"]["configured"], targets["alerts"]["pending"]) == (True, 1)
    assert (targets["old-pager"]["configured"], targets["old-pager"]["pending"]) == (False, 1)
    assert "not configured" in page
    assert [d.event_id for d in due] == [pressed.event_id]  # put back, it goes out
