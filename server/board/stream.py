"""Server-Sent Events of alert changes, fed by the `AlertChange` hook.

Every connection first gets `retry:` advice and a `snapshot` event (every open and
acknowledged alert), then one `alert` event per change, and a `ping` event every
`PING_EVERY_S` so proxies keep the connection open and the board knows the server is there.
A reconnecting board always gets a fresh snapshot, so it never misses a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from server.alerts.events import AlertChange
from server.alerts.model import Alert, NotFoundError
from server.context import AppContext

log = logging.getLogger(__name__)

PING_EVERY_S = 15.0
RETRY_MS = 2000
MAX_QUEUED = 1000  # a board this far behind is dropped; it reconnects and gets a snapshot
_CLOSE = None


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def board_alert(alert: Alert) -> dict[str, Any]:
    """An alert as the board shows it (the API's fields, times as ISO strings)."""
    out: dict[str, Any] = {}
    for key, value in asdict(alert).items():
        out[key] = _iso(value) if isinstance(value, datetime) else value
    out.setdefault("priority", "normal")
    out.setdefault("drill", False)
    return out


def sse(event: str, data: object, event_id: str | None = None) -> bytes:
    """One Server-Sent Event (JSON on a single data line)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


class AlertStream:
    """Fans each committed alert change out to every connected board."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        self._seq = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    @property
    def listeners(self) -> int:
        return len(self._queues)

    async def on_change(self, change: AlertChange) -> None:
        """The `AlertChange` subscriber: read the alert once, queue it for every board."""
        if not self._queues:
            return
        try:
            alert = await self._ctx.db.run(self._ctx.store.get_alert, change.alert_id)
        except NotFoundError:
            return
        data = {"change": change.kind, "alert": board_alert(alert), "now": _iso(self._ctx.clock())}
        self._fan_out(sse("alert", data, str(next(self._seq))))

    def _fan_out(self, message: bytes | None) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("board stream: a board fell %d changes behind; dropping it", MAX_QUEUED)
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.get_nowait()
                    queue.put_nowait(_CLOSE)

    def close_soon(self) -> None:
        """End every stream (the server is stopping); safe from a signal handler."""
        self.closed = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fan_out, _CLOSE)

    async def _snapshot(self) -> list[dict[str, Any]]:
        def read() -> list[Alert]:
            store = self._ctx.store
            return [
                *store.list_alerts(status="open", limit=1000),
                *store.list_alerts(status="acknowledged", limit=1000),
            ]

        return [board_alert(a) for a in await self._ctx.db.run(read)]

    async def events(self) -> AsyncIterator[bytes]:
        """One board's stream: retry advice, the snapshot, then changes and pings until closed."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_QUEUED)
        self._queues.add(queue)  # before the snapshot, so no change falls in between
        try:
            yield f"retry: {RETRY_MS}\n: flic-edge alert stream\n\n".encode()
            snapshot = {"alerts": await self._snapshot(), "now": _iso(self._ctx.clock())}
            yield sse("snapshot", snapshot, str(next(self._seq)))
            while not self.closed:
                try:
                    message = await asyncio.wait_for(queue.get(), PING_EVERY_S)
                except TimeoutError:
                    yield sse("ping", {"now": _iso(self._ctx.clock())})
                    continue
                if message is None:
                    return
                yield message
        finally:
            self._queues.discard(queue)
