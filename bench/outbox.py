"""`outbox`: durable enqueue and drain of a 10,000-press backlog, vs plain SQLite inserts."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.core.dispatch import Dispatcher
from bridge.core.outbox import Outbox
from bridge.metrics import Metrics
from bridge.models import ClickEvent, ClickType

BUTTONS = 20
TARGET = "bench-target"


class CountingSink:
    """A target that takes everything at once: the drain rate is the outbox's own."""

    name = TARGET

    def __init__(self, expected: int) -> None:
        self.count = 0
        self.expected = expected
        self.done = asyncio.Event()

    async def start(self) -> None:
        return None

    async def deliver(self, body: Mapping[str, Any]) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()

    async def close(self) -> None:
        return None


def _event(i: int, now: datetime) -> tuple[ClickEvent, dict[str, Any]]:
    address = f"80:e4:da:72:00:{i % BUTTONS:02x}"
    event = ClickEvent(
        event_id=f"bench-{i}",
        button_address=address,
        button_name=f"bench-{i % BUTTONS}",
        click_type=ClickType.SINGLE,
        source="api",
        pressed_at=now,
        received_at=now,
        queued=False,
        queued_s=0.0,
    )
    body = {"flic_nameId": event.button_name, "flic_state": "On", "event_id": event.event_id}
    return event, body


def baseline_inserts(path: Path, count: int) -> float:
    """Rows per second, one row per committed transaction, WAL + synchronous=FULL."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, event_id TEXT, body TEXT)")
    started = time.perf_counter()
    for i in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (event_id, body) VALUES (?, ?)", (f"e{i}", '{"x": 1}'))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


async def _drain(outbox: Outbox, count: int) -> float:
    sink = CountingSink(count)
    rand = random.Random(1).random
    dispatcher = Dispatcher(
        outbox, sink, clock=lambda: datetime.now(UTC), rand=rand, metrics=Metrics()
    )
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run(), name="bench-drain")
    await asyncio.wait_for(sink.done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return count / elapsed


def bench_outbox(workdir: Path, *, presses: int) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    outbox = Outbox(workdir / "outbox.sqlite3")
    now = datetime.now(UTC)
    events = [_event(i, now) for i in range(presses)]
    started = time.perf_counter()
    for event, body in events:
        outbox.enqueue(event, body, [TARGET], now)
    enqueue_per_s = presses / (time.perf_counter() - started)
    drain_per_s = asyncio.run(_drain(outbox, presses))
    pending = outbox.stats(datetime.now(UTC)).pending
    outbox.close()
    baseline = baseline_inserts(workdir / "baseline.sqlite3", presses)
    return {
        "name": "outbox",
        "events_per_s": round(drain_per_s, 1),
        "enqueue_events_per_s": round(enqueue_per_s, 1),
        "baseline_events_per_s": round(baseline, 1),
        "backlog": presses,
        "buttons": BUTTONS,
        "left_pending": pending,
        "durability": "SQLite WAL, synchronous=FULL, one commit per press",
        "drain_target": "in-process sink that accepts at once (measures the outbox, not HTTP)",
    }
