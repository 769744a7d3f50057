"""`AppContext`: everything one server instance owns, built by `create_app` and passed down.

Routers reach it with `ctx: Ctx` (or `get_ctx(request)`). It is the one typed place for plugin
state too: the hook lists below, and each plugin's own parts (`ctx.provide(part)`, read back
with `ctx.part(PartType)`), instead of untyped `app.state.*` attributes.
Database work goes through `await ctx.db.run(ctx.store.method, ...)` so SQLite keeps one writer;
inbound messages go through `await ctx.inbound.submit(job)` (group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request

from edgecommon.sdnotify import Heartbeat
from server.alerts.events import AlertEvents
from server.alerts.store import Integration, Store
from server.config import Config
from server.db.connection import DbThread
from server.inbound.mapping import CompiledMapping, MappingError, compile_mapping
from server.inbound.ratelimit import RateLimiter
from server.inbound.writer import InboundWriter
from server.metrics import Metrics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TaskFactory = Callable[[], Coroutine[Any, Any, None]]
# A kind's own inbound handler: (ctx, integration, raw body, content type, Idempotency-Key).
InboundHandler = Callable[["AppContext", Integration, bytes, str, str | None], Awaitable[Any]]
# Whether an integration is in a maintenance window at an instant (runs on the database thread).
MaintenanceCheck = Callable[[int, datetime], bool]
# Called with the config now in force after a SIGHUP reload.
ReloadHook = Callable[[Config], None]
# Called from the signal handler when a shutdown begins (before uvicorn waits for responses).
ExitHook = Callable[[], None]
PartT = TypeVar("PartT")

MAPPING_CACHE_SIZE = 256
TASK_RESTART_S = 1.0
STOP_RECANCEL_S = 0.5


def system_clock() -> datetime:
    """Now, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class AppContext:
    """The composition root's parts; one per app, never global."""

    config: Config
    store: Store
    db: DbThread
    events: AlertEvents
    metrics: Metrics
    limiter: RateLimiter
    admin_token: str
    inbound: InboundWriter
    clock: Clock = system_clock
    task_factories: dict[str, TaskFactory] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    inbound_handlers: dict[str, InboundHandler] = field(default_factory=dict)
    maintenance_checks: list[MaintenanceCheck] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)  # the systemd watchdog reads them
    reload_hooks: list[ReloadHook] = field(default_factory=list)
    exit_hooks: list[ExitHook] = field(default_factory=list)
    _parts: dict[type[Any], object] = field(default_factory=dict)
    _mappings: OrderedDict[tuple[int, datetime], CompiledMapping | str] = field(
        default_factory=OrderedDict
    )

    def add_task(self, name: str, factory: TaskFactory) -> None:
        """Run `factory()` as a named task from startup to shutdown (restarted on crash)."""
        if name in self.task_factories:
            raise ValueError(f"background task {name!r} is already registered")
        self.task_factories[name] = factory

    def provide(self, part: PartT) -> PartT:
        """Keep a plugin's part (its state, its monitor) for its routes, by its type."""
        self._parts[type(part)] = part
        return part

    def part(self, kind: type[PartT]) -> PartT:
        """The part of type `kind` a plugin provided; LookupError if none did."""
        found = self._parts.get(kind)
        if not isinstance(found, kind):
            raise LookupError(
                f"no {kind.__name__} here: the plugin that provides it is not installed"
            )
        return found

    def compiled_mapping(self, integration: Integration) -> CompiledMapping:
        """The integration's compiled mapping, cached per (id, updated_at)."""
        key = (integration.id, integration.updated_at)
        found = self._mappings.get(key)
        if found is None:
            try:
                found = compile_mapping(integration.mapping)
            except MappingError as exc:
                # Saved before a check existed (or by hand): said once per version, not per call.
                log.warning(
                    "integration %d (%s): its mapping cannot run: %s",
                    integration.id,
                    integration.name,
                    exc,
                )
                found = str(exc)
            self._mappings[key] = found
            while len(self._mappings) > MAPPING_CACHE_SIZE:
                self._mappings.popitem(last=False)
        else:
            self._mappings.move_to_end(key)
        if isinstance(found, str):
            raise MappingError(found)
        return found

    async def start_tasks(self) -> None:
        for name, factory in self.task_factories.items():
            self.tasks[name] = asyncio.create_task(self._supervise(name, factory), name=name)

    async def stop_tasks(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            # Python 3.11's asyncio.wait_for can swallow a cancel that lands as its inner
            # future completes: cancel again until the task really ends.
            while not task.done():
                await asyncio.wait({task}, timeout=STOP_RECANCEL_S)
                if not task.done():
                    log.debug("background task %s ignored a cancel; cancelling again", task)
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()

    async def _supervise(self, name: str, factory: TaskFactory) -> None:
        failures = 0
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                if failures == 1:
                    log.exception("background task %s failed; restarting", name)
                else:
                    log.debug("background task %s failed again (%d)", name, failures, exc_info=True)
                await asyncio.sleep(TASK_RESTART_S)


def get_ctx(request: Request) -> AppContext:
    """The request's app context."""
    return cast(AppContext, request.app.state.ctx)


async def ctx_dependency(request: Request) -> AppContext:
    """`get_ctx` as a FastAPI dependency; async, because a sync one costs a thread hop."""
    return cast(AppContext, request.app.state.ctx)


Ctx = Annotated[AppContext, Depends(ctx_dependency)]
