"""Serving under systemd: READY once listening, a watchdog fed by the workers' progress.

A plugin that runs its own worker loop (escalation, notifications) makes a `Heartbeat`,
calls `beat()` each time round the loop, and appends it to `ctx.heartbeats`: the
watchdog then stops while that loop is stuck too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from types import FrameType

import uvicorn

from edgecommon.sdnotify import Heartbeat, Notifier, heartbeats_fresh, run_watchdog
from server.context import AppContext, ExitHook
from server.db.connection import DbThread

log = logging.getLogger("server.service")

ENV_WEDGED_AFTER = "ALERT_SERVER_WEDGED_AFTER_S"
# SQLite waits up to 30 s for a lock: a writer silent for three times that is wedged.
DEFAULT_WEDGED_AFTER_S = 90.0
MAX_PROBE_S = 5.0


class NotifyingServer(uvicorn.Server):
    """uvicorn that tells systemd STOPPING=1 as soon as a shutdown begins."""

    def __init__(
        self, config: uvicorn.Config, notifier: Notifier, exit_hooks: Sequence[ExitHook] = ()
    ) -> None:
        super().__init__(config)
        self.notifier = notifier
        self.exit_hooks = exit_hooks  # the plugins' `ctx.exit_hooks`

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.notifier.stopping()
        for hook in self.exit_hooks:
            hook()
        super().handle_exit(sig, frame)


def _noop() -> None:
    """Runs on the database thread: reaching it proves the single writer is taking work."""


async def probe_writer(db: DbThread, heartbeat: Heartbeat, interval_s: float) -> None:
    """Beat `heartbeat` each time a no-op gets through the database thread's queue."""
    while True:
        try:
            await db.run(_noop)
        except RuntimeError:  # the thread was shut down: the server is stopping
            return
        heartbeat.beat()
        await asyncio.sleep(interval_s)


async def serve(
    server: NotifyingServer,
    ctx: AppContext,
    *,
    wedged_after_s: float | None = None,
    on_reload: Callable[[], object] | None = None,
) -> None:
    """Run uvicorn; READY=1 once it listens, then WATCHDOG=1 while the writer makes progress.

    `on_reload` runs on SIGHUP (in the event loop).
    """
    notifier = server.notifier
    if on_reload is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_reload)
    web = asyncio.create_task(server.serve(), name="web")
    while not server.started:
        if web.done():
            await web
            return
        await asyncio.sleep(0.02)
    notifier.ready(f"serving on {server.config.host}:{server.config.port}")
    helpers: list[asyncio.Task[None]] = []
    interval_s = notifier.watchdog_interval_s
    if interval_s is not None:
        writer = Heartbeat("inbound-writer")
        helpers.append(
            asyncio.create_task(
                probe_writer(ctx.db, writer, min(interval_s, MAX_PROBE_S)), name="writer-probe"
            )
        )
        stalled = heartbeats_fresh(
            [writer, *ctx.heartbeats], wedged_after_s or DEFAULT_WEDGED_AFTER_S
        )
        helpers.append(asyncio.create_task(run_watchdog(notifier, stalled), name="watchdog"))
    try:
        await web
    finally:
        for task in helpers:
            task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
