"""The in-process alert lifecycle hook: `AlertChange` published to async subscribers after commit.

Subscribe with `ctx.events.subscribe(name, handler)` where `handler` is
`async def handler(change: AlertChange) -> None`, or with `subscribe_batch(name, handler)` to
get every change queued so far as one list (one database call for a burst instead of one per
change). Each subscriber gets every change in commit order from its own queue and task, so a
slow or failing subscriber never delays or fails an inbound request, nor another subscriber:
exceptions are logged and the next change is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

log = logging.getLogger("server.events")

ChangeKind = Literal["open", "append", "acknowledge", "close", "reopen"]
Handler = Callable[["AlertChange"], Awaitable[None]]
BatchHandler = Callable[[list["AlertChange"]], Awaitable[None]]
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One committed change of one alert; `message_id` is None when a person made it."""

    kind: ChangeKind
    alert_id: int
    integration_id: int
    source_name: str
    status: str
    title: str
    at: datetime
    message_id: str | None
    priority: str = "normal"  # urgent | high | normal | low


@dataclass(slots=True)
class _Subscriber:
    name: str
    handler: BatchHandler
    queue: asyncio.Queue[AlertChange]
    task: asyncio.Task[None] | None = None


class AlertEvents:
    """Fan-out of committed `AlertChange`s; one ordered queue and worker task per subscriber."""

    def __init__(self) -> None:
        self._subs: list[_Subscriber] = []

    def subscribe(self, name: str, handler: Handler) -> Callable[[], None]:
        """Register `handler` (one change per call); returns a function that unsubscribes it."""

        async def each(changes: list[AlertChange]) -> None:
            for change in changes:
                try:
                    await handler(change)
                except Exception:
                    log.exception(
                        "subscriber %s failed on %s of alert %d", name, change.kind, change.alert_id
                    )

        return self.subscribe_batch(name, each)

    def subscribe_batch(self, name: str, handler: BatchHandler) -> Callable[[], None]:
        """Register `handler`, called with the changes queued so far (up to `MAX_BATCH`, in order).

        Returns a function that unsubscribes it.
        """
        sub = _Subscriber(name, handler, asyncio.Queue())
        self._subs.append(sub)

        def unsubscribe() -> None:
            if sub in self._subs:
                self._subs.remove(sub)
            if sub.task is not None:
                sub.task.cancel()

        return unsubscribe

    def publish(self, change: AlertChange) -> None:
        """Queue `change` for every subscriber (call on the event loop, after the commit)."""
        for sub in list(self._subs):
            try:
                sub.queue.put_nowait(change)
                self._ensure_worker(sub)
            except Exception:
                log.exception("could not queue alert change for subscriber %s", sub.name)

    async def drain(self) -> None:
        """Wait until every subscriber has handled everything queued so far."""
        for sub in list(self._subs):
            await sub.queue.join()

    async def aclose(self) -> None:
        """Stop every worker task (queued changes not yet handled are dropped)."""
        tasks = [s.task for s in self._subs if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in self._subs:
            sub.task = None

    def _ensure_worker(self, sub: _Subscriber) -> None:
        if sub.task is None or sub.task.done():
            sub.task = asyncio.get_running_loop().create_task(
                self._run(sub), name=f"alert-events:{sub.name}"
            )

    async def _run(self, sub: _Subscriber) -> None:
        while True:
            batch = [await sub.queue.get()]
            while len(batch) < MAX_BATCH and not sub.queue.empty():
                batch.append(sub.queue.get_nowait())
            try:
                await sub.handler(batch)
            except Exception:
                log.exception("subscriber %s failed on %d alert change(s)", sub.name, len(batch))
            finally:
                for _ in batch:
                    sub.queue.task_done()
