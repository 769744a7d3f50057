"""Issue 16: the outbox and the list of unknown buttons are bounded, and say so when full."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.config.limits import MAX_OUTBOX_CLICKS, MAX_UNKNOWN_BUTTONS
from bridge.core.outbox import Outbox
from bridge.errors import ConfigError
from bridge.web.app import create_app

from .factories import T0, click

TOKEN = "limits-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def fill(box: Outbox, first: int, count: int, target: str = "t1") -> None:
    for n in range(first, first + count):
        event_id = f"e{n:04d}"
        assert box.enqueue(click(event_id=event_id), {"event_id": event_id}, [target], T0)


def deliver_all(box: Outbox, target: str = "t1") -> None:
    while due := box.due(target, T0):
        for row in due:
            box.mark_delivered(row.seq, target, T0)


def stored(box: Outbox) -> list[str]:
    return sorted(r.event_id for r in box.rows(limit=10_000))


def test_at_the_cap_the_oldest_delivered_go_first_and_pending_never(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box = Outbox.in_state_dir(tmp_path / "state", max_clicks=100)
    try:
        fill(box, 0, 60)
        deliver_all(box)  # e0000..e0059 delivered
        fill(box, 60, 40)  # e0060..e0099 pending: 100 stored, at the cap
        assert len(stored(box)) == 100

        fill(box, 100, 1)
        kept = stored(box)
        assert len(kept) <= 100
        forgotten = sorted({f"e{n:04d}" for n in range(101)} - set(kept))
        assert forgotten == [f"e{n:04d}" for n in range(len(forgotten))]  # the oldest
        assert all(int(e[1:]) < 60 for e in forgotten)  # all of them delivered ones
        assert box.stats(T0).pending == 41
        assert not box.is_full()
        assert "forgot the" in caplog.text

        fill(box, 101, 200)  # more than every delivered click: pending ones are kept
        assert box.stats(T0).pending == 241
        assert box.stats(T0).delivered == 0
        assert box.is_full()
        assert any(
            r.levelno == logging.ERROR and "outbox FULL" in r.getMessage() for r in caplog.records
        )
        fill(box, 301, 1)  # still stored: nothing a button sent is dropped
        assert box.stats(T0).pending == 242

        deliver_all(box)
        assert not box.is_full()  # delivered clicks can be forgotten again
        fill(box, 302, 1)
        assert len(stored(box)) <= 100
        assert box.stats(T0).pending == 1
    finally:
        box.close()


def test_the_caps_have_defaults_and_refuse_nonsense() -> None:
    config = parse_config({})
    assert config.limits.max_outbox_clicks == MAX_OUTBOX_CLICKS == 100_000
    assert config.limits.max_unknown_buttons == MAX_UNKNOWN_BUTTONS == 100
    with pytest.raises(ConfigError) as caught:
        parse_config({"limits": {"max_outbox_clicks": 5, "max_unknown_buttons": 0, "x": 1}})
    assert sorted(p.split(":")[0] for p in caught.value.problems) == [
        "limits.max_outbox_clicks",
        "limits.max_unknown_buttons",
        "limits.x",
    ]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    config = parse_config(
        {
            "bridge": {"state_dir": str(tmp_path / "state"), "token": TOKEN},
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "forward": [{"url": "http://127.0.0.1:9/hook", "name": "alerts"}],  # never answers
            "limits": {"max_outbox_clicks": 100, "max_unknown_buttons": 3},
        }
    )
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(runtime.web))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
        yield runtime, client
    runtime.outbox.close()


async def test_unknown_buttons_are_capped_and_their_clicks_kept(
    app: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _runtime, client = app
    addresses = [f"80:e4:da:00:00:0{n}" for n in range(5)]
    for address in addresses:
        answer = await client.post("/api/press", json={"button": address}, headers=AUTH)
        assert answer.status_code == 202
    status = (await client.get("/api/status")).json()
    assert [b["address"] for b in status["buttons"]] == addresses[2:]  # the newest three
    assert status["unknown_buttons"] == {"count": 3, "max": 3, "forgotten": 2}
    assert status["outbox"]["pending"] == 5  # every click kept
    metrics = (await client.get("/metrics")).text
    assert "flic_bridge_unknown_buttons 3\n" in metrics
    assert "flic_bridge_unknown_buttons_forgotten 2\n" in metrics


async def test_a_full_outbox_says_so_on_the_status_page_api_and_metrics(
    app: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _runtime, client = app
    for _ in range(100):
        answer = await client.post("/api/press", json={"button": "80:e4:da:00:00:01"}, headers=AUTH)
        assert answer.status_code == 202
    status = (await client.get("/api/status")).json()["outbox"]
    assert (status["full"], status["max_clicks"], status["pending"]) == (False, 100, 100)

    answer = await client.post("/api/press", json={"button": "80:e4:da:00:00:01"}, headers=AUTH)
    assert answer.status_code == 202  # stored all the same
    status = (await client.get("/api/status")).json()["outbox"]
    assert (status["full"], status["pending"], status["forgotten"]) == (True, 101, 0)
    assert "flic_bridge_outbox_full 1\n" in (await client.get("/metrics")).text
    page = (await client.get("/")).text
    assert "Outbox FULL" in page
    assert "101 presses pending or dead, at the cap of 100" in page
