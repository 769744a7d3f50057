"""Delivery to a real local webhook: headers, order, retries through an outage, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.core.dispatch import Dispatcher
from bridge.core.outbox import Outbox
from bridge.errors import DeliveryError
from bridge.metrics import Metrics
from bridge.sinks.http import HttpSink, is_permanent
from tests.support.procs import free_port

from .factories import click
from .receiver import Receiver

A, B = "80:e4:da:71:23:45", "80:e4:da:71:23:46"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (400, True),
        (401, True),
        (404, True),
        (410, True),
        (422, True),
        (408, False),
        (429, False),
        (500, False),
        (502, False),
        (503, False),
    ],
)
def test_only_4xx_other_than_408_and_429_are_permanent(status: int, permanent: bool) -> None:
    assert is_permanent(status) is permanent


async def test_http_sink_posts_the_body_with_an_idempotency_key() -> None:
    receiver = Receiver().start()
    sink = HttpSink("t", receiver.url)
    try:
        await sink.start()
        await sink.deliver({"event_id": "ev-9", "flic_state": "On"})
        receiver.status_for = lambda body: 404
        with pytest.raises(DeliveryError) as refused:
            await sink.deliver({"event_id": "ev-10"})
        assert refused.value.permanent
        receiver.status_for = lambda body: 503
        with pytest.raises(DeliveryError) as busy:
            await sink.deliver({"event_id": "ev-11"})
        assert not busy.value.permanent
    finally:
        await sink.close()
        receiver.stop()
    (got,) = receiver.received
    assert got.headers["idempotency-key"] == "ev-9"
    assert got.body == {"event_id": "ev-9", "flic_state": "On"}


async def test_http_sink_failure_to_connect_is_worth_retrying() -> None:
    sink = HttpSink("t", f"http://127.0.0.1:{free_port()}/hook", timeout_s=2)
    with pytest.raises(DeliveryError) as caught:
        await sink.deliver({"event_id": "x"})
    await sink.close()
    assert not caught.value.permanent


@contextlib.asynccontextmanager
async def dispatching(outbox: Outbox, sink: HttpSink) -> AsyncIterator[Dispatcher]:
    await sink.start()
    dispatcher = Dispatcher(outbox, sink, clock=now, rand=lambda: 0.0, metrics=Metrics())
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sink.close()


async def wait_for(check: Any, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def enqueue(outbox: Outbox, event_id: str, address: str) -> None:
    event = click(address, event_id=event_id)
    outbox.enqueue(event, {"event_id": event_id, "button_address": address}, ["t"], now())


async def test_a_target_that_was_down_gets_everything_once_in_order(tmp_path: Path) -> None:
    port = free_port()
    outbox = Outbox.in_state_dir(tmp_path)
    async with dispatching(outbox, HttpSink("t", f"http://127.0.0.1:{port}/hook")) as dispatcher:
        for n in range(4):
            enqueue(outbox, f"a{n}", A)
            enqueue(outbox, f"b{n}", B)
            dispatcher.wake()
        await wait_for(lambda: dispatcher.failing_since is not None)
        receiver = Receiver(port).start()
        try:
            await wait_for(lambda: outbox.stats(now()).pending == 0)
        finally:
            receiver.stop()
    ids = [b["event_id"] for b in receiver.bodies()]
    assert sorted(ids) == sorted({*ids})  # each once
    assert [i for i in ids if i.startswith("a")] == ["a0", "a1", "a2", "a3"]
    assert [i for i in ids if i.startswith("b")] == ["b0", "b1", "b2", "b3"]
    assert outbox.stats(now()).delivered == 8


async def test_a_refused_click_becomes_a_dead_letter_and_the_line_moves_on(tmp_path: Path) -> None:
    receiver = Receiver().start()
    receiver.status_for = lambda body: 422 if body["event_id"] == "a0" else 202
    outbox = Outbox.in_state_dir(tmp_path)
    try:
        async with dispatching(outbox, HttpSink("t", receiver.url)) as dispatcher:
            enqueue(outbox, "a0", A)
            enqueue(outbox, "a1", A)
            dispatcher.wake()
            await wait_for(lambda: outbox.stats(now()).pending == 0)
            assert [r.event_id for r in outbox.rows("dead")] == ["a0"]
            receiver.status_for = lambda body: 202
            outbox.retry_dead(now())
            await wait_for(
                lambda: outbox.stats(now()).dead == 0 and not outbox.stats(now()).pending
            )
    finally:
        receiver.stop()
    assert [b["event_id"] for b in receiver.bodies()] == ["a1", "a0"]
