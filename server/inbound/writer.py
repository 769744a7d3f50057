"""Group commit for inbound messages: what queues while the database is busy shares one commit.

`submit(job)` returns only after the COMMIT holding the job is on disk (synchronous=FULL), so a
202 still means "stored". While one batch is being written, new jobs queue; when it is done,
all of them go to the database thread as the next batch (one transaction, a savepoint per job,
one fsync). A quiet server writes batches of one, so nothing waits for a timer.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from server.alerts.events import AlertEvents
from server.alerts.store import InboundJob, InboundResult, Store
from server.db.connection import DbThread

log = logging.getLogger("server.writer")

MAX_BATCH = 512

_Waiting = tuple[InboundJob, "asyncio.Future[InboundResult]"]


class InboundWriter:
    """Queues inbound jobs and writes them in batches on the database thread, in arrival order."""

    def __init__(
        self, db: DbThread, store: Store, events: AlertEvents, max_batch: int = MAX_BATCH
    ) -> None:
        self._db = db
        self._store = store
        self._events = events
        self._max_batch = max_batch
        self._queue: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        self.in_flight = 0  # jobs of the batch the database thread is writing now
        self.batches = 0
        self.jobs = 0

    @property
    def pending(self) -> int:
        """Jobs queued for the next batch (not yet handed to the database thread)."""
        return len(self._queue)

    async def submit(self, job: InboundJob) -> InboundResult:
        """Store `job` durably; returns once its commit is on disk and its changes are published.

        Raises what storing it raised (`sqlite3.Error` when the batch's commit failed: then
        no job of that batch is stored).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[InboundResult] = loop.create_future()
        self._queue.append((job, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush(), name="inbound-writer")
        return await future

    async def _flush(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._write(batch)
                batch = []
        finally:
            # Only when cancelled (shutdown): nobody may wait forever for an answer.
            for _, future in [*batch, *self._queue]:
                future.cancel()
            self._queue.clear()

    async def _write(self, batch: list[_Waiting]) -> None:
        jobs = [job for job, _ in batch]
        self.in_flight = len(jobs)
        try:
            results = await self._db.run(self._store.record_inbound_batch, jobs)
        except Exception as exc:
            log.error("inbound batch of %d not stored: %s", len(batch), exc)
            for _, future in batch:
                if not future.done():  # each caller raises its own copy, not one shared object
                    future.set_exception(copy.copy(exc))
            return
        finally:
            self.in_flight = 0
        self.batches += 1
        self.jobs += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                if not future.done():
                    future.set_exception(result)
                continue
            for change in result.changes:  # commit order, before any caller resumes
                self._events.publish(change)
            if not future.done():
                future.set_result(result)
