"""Bridges as a server plugin: the report routes, the silence check, the console page."""

from __future__ import annotations

from fastapi import FastAPI

from server.bridges.api import router
from server.bridges.console import console_router
from server.bridges.monitor import BridgeMonitor
from server.bridges.store import BridgesStore
from server.context import AppContext


def plugin_for_bridges(app: FastAPI, ctx: AppContext) -> None:
    """`/api/v1/bridges`, the `bridges` silence task and the console's `/bridges` page."""
    silent_after_s = ctx.config.server.bridge_silent_after_s
    monitor = BridgeMonitor(ctx, BridgesStore(ctx.store.db), silent_after_s)
    ctx.provide(monitor)
    ctx.add_task("bridges", monitor.run)
    app.include_router(router)
    app.include_router(console_router)
