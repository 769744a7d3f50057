"""`[[forward]] urls`: one target over several URLs, the next one taken at once when one fails."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from bridge.app.runtime import Runtime
from bridge.config import load_config, parse_config
from bridge.errors import ConfigError, DeliveryError
from bridge.sinks.http import HttpSink
from bridge.web.app import create_app
from tests.support.procs import free_port

from .receiver import Receiver


def forward(**table: object) -> dict[str, object]:
    return {"forward": [table]}


def test_urls_make_one_target_named_after_its_first_url(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('[[forward]]\nurls = ["http://a:8380/inbound/T", "http://b:8380/inbound/T"]\n')
    (target,) = load_config(path).forward
    assert target.urls == ("http://a:8380/inbound/T", "http://b:8380/inbound/T")
    assert target.url == "http://a:8380/inbound/T"
    # Turning `url = A` into `urls = [A, B]` keeps the outbox key: pending presses stay queued.
    (single,) = parse_config(forward(url="http://a:8380/inbound/T")).forward
    assert single.name == target.name
    assert single.urls == ("http://a:8380/inbound/T",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"url": "http://a/x", "urls": ["http://b/x"]}, "give either `url` or `urls`"),
        ({}, "give either `url` or `urls`"),
        ({"urls": []}, "forward[0].urls: List should have at least 1 item"),
        ({"urls": ["http://a/x", "ftp://b/x"]}, "'ftp://b/x' is not an http:// or https:// URL"),
        ({"urls": ["http://a/x", "http://a/x"]}, "forward[0].urls: lists one URL twice"),
        ({"urls": "http://a/x"}, "forward[0].urls: Input should be a valid list"),
    ],
)
def test_bad_urls_are_refused_with_a_clear_error(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(forward(**table))
    problems = "\n".join(caught.value.problems)
    assert message in problems
    assert "forward[0]" in problems


def test_two_targets_with_the_same_first_url_are_refused() -> None:
    data = {"forward": [{"url": "http://a/x"}, {"urls": ["http://a/x", "http://b/x"]}]}
    with pytest.raises(ConfigError, match=r"forward\[1\]: same target as forward\[0\]"):
        parse_config(data)


async def test_a_url_that_is_down_sends_the_press_to_the_next_with_the_same_key() -> None:
    second = Receiver().start()
    sink = HttpSink("t", [f"http://127.0.0.1:{free_port()}/hook", second.url], timeout_s=5)
    try:
        await sink.deliver({"event_id": "ev-1"})
        assert sink.url == second.url  # in use from now on
        await sink.deliver({"event_id": "ev-2"})
    finally:
        await sink.close()
        second.stop()
    assert [r.headers["idempotency-key"] for r in second.received] == ["ev-1", "ev-2"]


async def test_5xx_and_timeouts_move_on_4xx_does_not() -> None:
    first, second = Receiver().start(), Receiver().start()
    sink = HttpSink("t", [first.url, second.url], timeout_s=0.5)

    def hang(body: dict[str, object]) -> int:
        time.sleep(1.5)
        return 503  # too late, and refused anyway: the first never takes it

    try:
        first.status_for = lambda body: 503
        await sink.deliver({"event_id": "ev-503"})
        assert sink.url == second.url
        first.status_for = lambda body: 200
        second.status_for = hang
        await sink.deliver({"event_id": "ev-timeout"})  # second hangs: back to the first
        assert sink.url == first.url
        first.status_for = lambda body: 404
        with pytest.raises(DeliveryError) as refused:
            await sink.deliver({"event_id": "ev-404"})
        assert refused.value.permanent
        assert sink.url == first.url
    finally:
        await sink.close()
        first.stop()
        second.stop()
    assert [r.body["event_id"] for r in second.received] == ["ev-503"]
    assert [r.body["event_id"] for r in first.received] == ["ev-timeout"]


async def test_when_every_url_fails_the_error_names_each() -> None:
    down = [f"http://127.0.0.1:{free_port()}/a", f"http://127.0.0.1:{free_port()}/b"]
    sink = HttpSink("t", down, timeout_s=2)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver({"event_id": "ev-1"})
    finally:
        await sink.close()
    assert not caught.value.permanent
    assert down[0] in str(caught.value)
    assert down[1] in str(caught.value)


async def test_the_status_page_and_api_say_which_url_is_in_use(tmp_path: Path) -> None:
    second = Receiver().start()
    down = f"http://127.0.0.1:{free_port()}/hook"
    config = parse_config(
        {
            "bridge": {"state_dir": str(tmp_path / "state"), "token": "failover-token"},
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "forward": [{"urls": [down, second.url], "name": "alerts", "timeout_s": 5}],
        }
    )
    runtime = Runtime(config)
    (dispatcher,) = runtime.dispatchers
    transport = httpx.ASGITransport(app=create_app(runtime.web))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            (before,) = (await client.get("/api/status")).json()["targets"]
            await dispatcher.sink.deliver({"event_id": "ev-1"})
            (after,) = (await client.get("/api/status")).json()["targets"]
            page = (await client.get("/")).text
    finally:
        await dispatcher.sink.close()
        runtime.outbox.close()
        second.stop()
    assert (before["url"], before["urls"]) == (down, [down, second.url])
    assert after["url"] == second.url
    assert f"in use: <code>{second.url}</code>" in page
