"""`create_app(config)`: the server's composition root (no module-level singletons).

Extending it: write a plugin `def plugin(app: FastAPI, ctx: AppContext) -> None` that calls
`app.include_router(...)`, `ctx.events.subscribe(name, handler)`, `ctx.add_task(name, factory)`,
`ctx.metrics.add_collector(...)`; add it to `default_plugins()` (or pass `plugins=`).
Plugins run in order after the core routers are in place; tasks start with the app's lifespan.
A POST, PUT, PATCH or DELETE under `/api/v1/` needs the admin token (`server.bodylimit`
checks it before the body is read).
Schema steps go in `server.app.schema.all_migrations()`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from server import __version__
from server.accesslog import AccessLog, mask_path
from server.alerts import api as alerts_api
from server.alerts.events import AlertEvents
from server.alerts.store import Store
from server.app import health
from server.app.bodylimit import BodyLimit
from server.app.database import open_configured
from server.app.schema import all_migrations
from server.auth.admintoken import resolve_admin_token
from server.board.plugin import board_plugin
from server.bridges.plugin import plugin_for_bridges
from server.config import Config
from server.console.plugin import console_plugin
from server.context import AppContext, Clock, system_clock
from server.db.connection import DbThread
from server.db.migrate import Migration
from server.escalation.plugin import escalation_plugin
from server.inbound import api as inbound_api
from server.inbound import log_api as inbound_log_api
from server.inbound.api import InboundFastPath
from server.inbound.dedupe import STATUSES
from server.inbound.ratelimit import RateLimiter
from server.inbound.writer import InboundWriter
from server.integrations import api as integrations
from server.integrations.extras_api import extras_plugin
from server.metrics import Metrics, Sample
from server.mqtt.plugin import mqtt_plugin
from server.reports.api import reports_plugin

log = logging.getLogger(__name__)

Plugin = Callable[[FastAPI, AppContext], None]
STORAGE_RETRY_AFTER_S = 5
RETENTION_EVERY_S = 3600.0


def core_plugin(app: FastAPI, ctx: AppContext) -> None:
    """Inbound webhook, admin API, health and metrics."""
    for router in (
        health.router,
        inbound_api.router,
        integrations.router,
        inbound_log_api.router,
        alerts_api.router,
    ):
        app.include_router(router)
    ctx.metrics.counter(
        "alert_server_inbound_messages_total", "Inbound messages logged, by inbound-log status."
    )
    for status in STATUSES:
        ctx.metrics.inc("alert_server_inbound_messages_total", 0, status=status)
    ctx.metrics.counter(
        "alert_server_inbound_rejected_total", "Inbound requests refused before logging, by reason."
    )

    def alerts_by_status() -> Iterable[Sample]:
        counts = ctx.store.alert_counts()
        for status in ("open", "acknowledged", "closed"):
            yield ("alert_server_alerts", (("status", status),), float(counts.get(status, 0)))

    ctx.metrics.add_collector("alert_server_alerts", "Alerts by status.", alerts_by_status)
    if ctx.config.server.inbound_retention_days > 0:
        ctx.add_task("inbound-retention", lambda: purge_inbound_forever(ctx))


async def purge_inbound_forever(ctx: AppContext) -> None:
    """Every hour, drop inbound log rows older than `[server] inbound_retention_days`."""
    keep = timedelta(days=ctx.config.server.inbound_retention_days)
    while True:
        removed = await ctx.db.run(ctx.store.purge_inbound, ctx.clock() - keep)
        if removed:
            log.info("inbound log: removed %d messages older than %s", removed, keep)
        await asyncio.sleep(RETENTION_EVERY_S)


def default_plugins(*, escalation_clock: Clock | None = None) -> tuple[Plugin, ...]:
    """Every plugin a normal server runs, in order (add yours here).

    `escalation_clock` is where escalation alone reads "now" (default: the app's clock).
    """
    return (
        core_plugin,
        functools.partial(escalation_plugin, clock=escalation_clock),
        extras_plugin,
        mqtt_plugin,
        board_plugin,
        console_plugin,
        reports_plugin,
        plugin_for_bridges,
    )


def create_app(
    config: Config,
    *,
    clock: Clock = system_clock,
    monotonic: Callable[[], float] = time.monotonic,
    plugins: Sequence[Plugin] | None = None,
    migrations: Sequence[Migration] | None = None,
) -> FastAPI:
    """Open the data dir's database (migrated), build the context and the FastAPI app.

    The database is open when this returns; call `close_app(app)` (the lifespan does) to
    release it. `app.state.ctx` is the `AppContext`.
    """
    db = open_configured(config, all_migrations() if migrations is None else migrations)
    store = Store(db)
    try:
        db_thread = DbThread()
        events = AlertEvents()
        ctx = AppContext(
            config=config,
            store=store,
            db=db_thread,
            events=events,
            inbound=InboundWriter(db_thread, store, events),
            metrics=Metrics(),
            limiter=RateLimiter(
                config.server.inbound_rate_per_s, config.server.inbound_burst, monotonic
            ),
            admin_token=resolve_admin_token(config),
            clock=clock,
        )
    except BaseException:
        store.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ctx.start_tasks()
        try:
            yield
        finally:
            await ctx.stop_tasks()
            await ctx.events.aclose()
            close_app(app)

    app = AlertServerApp(title="alert-server", version=__version__, lifespan=lifespan)
    app.state.ctx = ctx  # the one thing on app.state: plugins keep their state on ctx
    for (
        error
    ) in db.unavailable_errors:  # the engine failed (disk full; PostgreSQL gone): 503, retry
        app.add_exception_handler(error, storage_unavailable)
    app.add_exception_handler(OverflowError, number_out_of_range)
    for plugin in default_plugins() if plugins is None else plugins:
        plugin(app, ctx)
    app.add_middleware(BodyLimit, ctx=ctx)
    app.add_middleware(AccessLog)  # outermost: it logs what BodyLimit refuses too
    app.inbound_fast_path = InboundFastPath(ctx, storage_unavailable)
    return app


class AlertServerApp(FastAPI):
    """The FastAPI app, with the inbound webhook's fast path in front of everything else."""

    inbound_fast_path: InboundFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.inbound_fast_path
        token = None if fast is None else fast.token_of(scope)
        if fast is not None and token is not None:
            await fast(scope, receive, send, token)
            return
        await super().__call__(scope, receive, send)


async def storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database failed (disk full, I/O error): nothing was accepted, so ask for a retry."""
    log.error("storage error on %s %s: %s", request.method, mask_path(request.url.path), exc)
    return JSONResponse(
        {"detail": f"storage unavailable, nothing was stored: {exc}"},
        status_code=503,
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)},
    )


async def number_out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A number too large for SQLite's 64-bit integers (an id in a URL or a body): no such row."""
    return JSONResponse({"detail": f"number out of range: {exc}"}, status_code=422)


def close_app(app: FastAPI) -> None:
    """Stop the database thread and close the database (idempotent)."""
    ctx: AppContext = app.state.ctx
    ctx.db.close()
    ctx.store.close()
