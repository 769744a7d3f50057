"""Drives one sink from the outbox: oldest first per button, backoff on failure, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bridge.core.outbox import Due, Outbox
from bridge.errors import DeliveryError
from bridge.metrics import Metrics
from bridge.sinks.base import Sink
from edgecommon.backoff import backoff_s
from edgecommon.sdnotify import Heartbeat

log = logging.getLogger(__name__)

# Another process (`flic-bridge outbox retry`) may change rows: look again at least this often.
POLL_S = 1.0
ATTEMPT_TIMEOUT_S = 120.0


class Dispatcher:
    """The delivery loop of one target."""

    def __init__(
        self,
        outbox: Outbox,
        sink: Sink,
        *,
        clock: Callable[[], datetime],
        rand: Callable[[], float],
        metrics: Metrics,
    ) -> None:
        self.outbox = outbox
        self.sink = sink
        self._clock = clock
        self._rand = rand
        self._metrics = metrics
        self._wake = asyncio.Event()
        self.failing_since: datetime | None = None
        self.last_error: str | None = None
        self.heartbeat = Heartbeat(f"deliver:{sink.name}")  # fed each time round the loop

    def wake(self) -> None:
        """Something new was enqueued: look now."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever (until cancelled)."""
        name = self.sink.name
        while True:
            self.heartbeat.beat()
            self._wake.clear()
            due = self.outbox.due(name, self._clock())
            for row in due:
                await self._attempt(row)
                self.heartbeat.beat()
            if due:
                continue
            next_at = self.outbox.next_due_at(name)
            wait_s = POLL_S
            if next_at is not None:
                wait_s = min(POLL_S, max(0.0, (next_at - self._clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait_s)

    async def _attempt(self, row: Due) -> None:
        name = self.sink.name
        try:
            # `attempt` (1 = first try) beside the stored body, for the press's journey.
            body = {**row.body, "attempt": row.attempts + 1}
            await asyncio.wait_for(self.sink.deliver(body), timeout=ATTEMPT_TIMEOUT_S)
        except DeliveryError as exc:
            self._failed(row, str(exc), permanent=exc.permanent)
            return
        except TimeoutError:
            self._failed(row, "timed out", permanent=False)
            return
        except Exception as exc:
            log.exception("target %s: delivery of %s raised", name, row.event_id)
            self._failed(row, f"{type(exc).__name__}: {exc}", permanent=False)
            return
        now = self._clock()
        self.outbox.mark_delivered(row.seq, name, now)
        self._metrics.delivery(name, "delivered")
        if self.failing_since is not None:
            log.info(
                "target %s: delivering again (failing since %s)",
                name,
                self.failing_since.isoformat(),
            )
            self.failing_since = None
            self.last_error = None
            # The target is back: what waited behind the backoff goes now, not in 30 s.
            self.outbox.expedite(name, now)
        log.debug("target %s: delivered %s", name, row.event_id)

    def _failed(self, row: Due, error: str, *, permanent: bool) -> None:
        name = self.sink.name
        now = self._clock()
        self.last_error = error
        if permanent:
            self.outbox.mark_dead(row.seq, name, now, error)
            self._metrics.delivery(name, "dead")
            log.error(
                "target %s: refused %s for good (%s): kept as a dead letter;"
                " `flic-bridge outbox retry` sends it again",
                name,
                row.event_id,
                error,
            )
            return
        delay_s = backoff_s(row.attempts + 1, self._rand())
        self.outbox.mark_failed(row.seq, name, now, error, now + timedelta(seconds=delay_s))
        self._metrics.delivery(name, "failed")
        if self.failing_since is None:
            self.failing_since = now
            log.warning("target %s: delivery failed (%s); retrying with backoff", name, error)
        else:
            log.debug("target %s: still failing (%s), next try in %.1f s", name, error, delay_s)
