"""Routes and wiring for the extras: `/v2/enqueue`, heartbeats and pings, maintenance windows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.requests import ClientDisconnect

from server.alerts.store import Integration, NotFoundError
from server.auth.admin import require_admin
from server.context import AppContext, Ctx, get_ctx
from server.fields import RowId, RowIdPath
from server.inbound.api import read_limited
from server.inbound.ratelimit import retry_after_header
from server.integrations.extras_store import ExtrasStore, MaintenanceWindow
from server.integrations.kinds.alertmanager import handle_alertmanager
from server.integrations.kinds.heartbeat import (
    DEFAULT_MAPPING,
    KIND,
    HeartbeatMonitor,
    heartbeat_json,
)
from server.integrations.kinds.pagerduty import EventBodyError, handle_pagerduty, invalid, read_json
from server.integrations.kinds.pagerduty_change import handle_change

log = logging.getLogger(__name__)
public = APIRouter(tags=["inbound"])
admin = APIRouter(prefix="/api/v1", tags=["extras"], dependencies=[Depends(require_admin)])

MAX_REASON = 500


def extras_of(request: Request) -> tuple[ExtrasStore, HeartbeatMonitor]:
    ctx = get_ctx(request)
    return ctx.part(ExtrasStore), ctx.part(HeartbeatMonitor)


def extras_plugin(app: FastAPI, ctx: AppContext) -> None:
    """PagerDuty and Alertmanager kinds, heartbeats, maintenance windows."""
    store = ctx.provide(ExtrasStore(ctx.store.db))
    monitor = ctx.provide(HeartbeatMonitor(ctx, store))
    ctx.inbound_handlers["pagerduty"] = handle_pagerduty
    ctx.inbound_handlers["alertmanager"] = handle_alertmanager

    async def heartbeat_inbound(
        ctx: AppContext, integration: Integration, raw: bytes, content_type: str, key: str | None
    ) -> JSONResponse:
        return await _ping(monitor, integration)

    ctx.inbound_handlers[KIND] = heartbeat_inbound
    ctx.maintenance_checks.append(store.in_window)
    ctx.add_task("heartbeats", monitor.run)
    app.include_router(public)
    app.include_router(admin)


# ---- PagerDuty ------------------------------------------------------------------------------


PagerDutyHandler = Callable[
    [AppContext, Integration, bytes, str, str | None], Awaitable[JSONResponse]
]


# Both spellings: FastAPI would answer the one with a slash 307, which clients do not follow.
@public.post("/v2/enqueue", status_code=202)
@public.post("/v2/enqueue/", status_code=202, include_in_schema=False)
async def enqueue(request: Request, ctx: Ctx) -> JSONResponse:
    """PagerDuty's Events API v2 endpoint: the integration is the one whose token is routing_key."""
    return await _pagerduty(request, ctx, handle_pagerduty)


@public.post("/v2/change/enqueue", status_code=202)
@public.post("/v2/change/enqueue/", status_code=202, include_in_schema=False)
async def change_enqueue(request: Request, ctx: Ctx) -> JSONResponse:
    """PagerDuty's change events: a timeline note on the integration's newest live alert."""
    return await _pagerduty(request, ctx, handle_change)


async def _pagerduty(request: Request, ctx: Ctx, handler: PagerDutyHandler) -> JSONResponse:
    """Read the body, find the integration whose token is routing_key, hand it on."""
    try:
        raw, too_large = await read_limited(request, ctx.config.server.inbound_max_body_bytes)
    except ClientDisconnect:
        return invalid("Event object is invalid", ["the client disconnected mid-body"])
    if too_large:
        return JSONResponse(
            {"status": "invalid event", "message": "Request too large", "errors": []},
            status_code=413,
        )
    try:
        body = read_json(raw)
    except EventBodyError as exc:
        log.warning("%s refused: %s", request.url.path, exc)
        return invalid("Event object is invalid", [str(exc)])
    routing_key = body.get("routing_key") if isinstance(body, dict) else None
    if not isinstance(routing_key, str) or not routing_key.strip():
        return invalid("Event object is invalid", ["'routing_key' is missing or blank"])
    integration = await ctx.db.run(ctx.store.find_integration_by_token, routing_key)
    if integration is None or integration.kind != "pagerduty":
        return invalid(
            "Event object is invalid",
            ["'routing_key' is not the token of a pagerduty integration"],
        )
    wait_s = ctx.limiter.check(integration.id)
    if wait_s > 0:
        return JSONResponse(
            {"status": "throttle event", "message": "Requests for this service are throttled"},
            status_code=429,
            headers={"Retry-After": retry_after_header(wait_s)},
        )
    content_type = request.headers.get("content-type", "application/json")
    key = request.headers.get("idempotency-key")
    return await handler(ctx, integration, raw, content_type, key)


# ---- heartbeats -----------------------------------------------------------------------------


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    interval_s: float = Field(gt=0, le=366 * 86400)
    grace_s: float = Field(default=0, ge=0, le=86400)
    escalation_policy_id: RowId | None = None


async def _ping(monitor: HeartbeatMonitor, integration: Integration) -> JSONResponse:
    closed = await monitor.ping(integration)
    return JSONResponse({"status": "ok", "closed_alert_id": closed}, status_code=200)


async def ping(token: str, request: Request, ctx: Ctx) -> JSONResponse:
    """A heartbeat's ping URL (any method a cron job or device can send)."""
    integration = await ctx.db.run(ctx.store.find_integration_by_token, token)
    if integration is None or integration.kind != KIND:
        return JSONResponse({"detail": "unknown heartbeat token"}, status_code=404)
    _, monitor = extras_of(request)
    return await _ping(monitor, integration)


# One route per method, so each has its own OpenAPI operation id.
for _method in ("GET", "POST", "HEAD"):
    public.add_api_route(
        "/ping/{token}", ping, methods=[_method], operation_id=f"ping_{_method.lower()}"
    )


@admin.post("/heartbeats", status_code=201)
async def create_heartbeat(body: HeartbeatIn, request: Request, ctx: Ctx) -> dict[str, Any]:
    store, _ = extras_of(request)
    now = ctx.clock()

    def create() -> dict[str, Any]:
        integration = ctx.store.create_integration(
            name=body.name,
            kind=KIND,
            mapping=dict(DEFAULT_MAPPING),
            now=now,
            escalation_policy_id=body.escalation_policy_id,
        )
        hb = store.add_heartbeat(integration.id, body.interval_s, body.grace_s, now)
        return heartbeat_json(hb, now)

    return await ctx.db.run(create)


@admin.get("/heartbeats")
async def list_heartbeats(request: Request, ctx: Ctx) -> dict[str, Any]:
    store, _ = extras_of(request)
    now = ctx.clock()
    return {"items": [heartbeat_json(hb, now) for hb in await ctx.db.run(store.heartbeats)]}


@admin.get("/heartbeats/{heartbeat_id}")
async def get_heartbeat(heartbeat_id: RowIdPath, request: Request, ctx: Ctx) -> dict[str, Any]:
    store, _ = extras_of(request)
    try:
        hb = await ctx.db.run(store.heartbeat, heartbeat_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return heartbeat_json(hb, ctx.clock())


@admin.delete("/heartbeats/{heartbeat_id}", status_code=204)
async def delete_heartbeat(heartbeat_id: RowIdPath, request: Request, ctx: Ctx) -> Response:
    store, _ = extras_of(request)
    try:
        await ctx.db.run(store.heartbeat, heartbeat_id)
        await ctx.db.run(ctx.store.delete_integration, heartbeat_id, ctx.clock())
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)


# ---- maintenance windows --------------------------------------------------------------------


class WindowIn(BaseModel):
    """A window: `start_at` (default now) and `end_at` or `duration_s`, plus a reason."""

    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    duration_s: float | None = Field(default=None, gt=0, le=366 * 86400)
    reason: str = Field(default="", max_length=MAX_REASON)

    @model_validator(mode="after")
    def _one_end(self) -> WindowIn:
        if (self.end_at is None) == (self.duration_s is None):
            raise ValueError('give exactly one of "end_at" or "duration_s"')
        return self

    def span(self, now: datetime) -> tuple[datetime, datetime]:
        start = self.start_at or now
        end = self.end_at or start + timedelta(seconds=self.duration_s or 0)
        if end <= start:
            raise HTTPException(422, "end_at must be after start_at")
        return start, end


def window_json(window: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    return {
        "id": window.id,
        "integration_id": window.integration_id,
        "start_at": window.start_at,
        "end_at": window.end_at,
        "reason": window.reason,
        "active": window.active(now),
        "created_at": window.created_at,
    }


async def _integration(ctx: AppContext, integration_id: int) -> Integration:
    try:
        return await ctx.db.run(ctx.store.get_integration, integration_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@admin.post("/integrations/{integration_id}/maintenance", status_code=201)
async def add_window(
    integration_id: RowIdPath, body: WindowIn, request: Request, ctx: Ctx
) -> dict[str, Any]:
    store, _ = extras_of(request)
    await _integration(ctx, integration_id)
    now = ctx.clock()
    start, end = body.span(now)
    window = await ctx.db.run(store.add_window, integration_id, start, end, body.reason, now)
    return window_json(window, now)


@admin.get("/integrations/{integration_id}/maintenance")
async def list_windows(integration_id: RowIdPath, request: Request, ctx: Ctx) -> dict[str, Any]:
    store, _ = extras_of(request)
    await _integration(ctx, integration_id)
    now = ctx.clock()
    return {"items": [window_json(w, now) for w in await ctx.db.run(store.windows, integration_id)]}


@admin.get("/maintenance")
async def all_windows(request: Request, ctx: Ctx, active: bool | None = None) -> dict[str, Any]:
    """Every window; `active=true` only those in force now."""
    store, _ = extras_of(request)
    now = ctx.clock()
    found = await ctx.db.run(store.windows, None)
    return {
        "items": [window_json(w, now) for w in found if active is None or w.active(now) == active]
    }


@admin.get("/integrations/{integration_id}/maintenance/{window_id}")
async def get_window(
    integration_id: RowIdPath, window_id: RowIdPath, request: Request, ctx: Ctx
) -> dict[str, Any]:
    store, _ = extras_of(request)
    try:
        window = await ctx.db.run(store.window, integration_id, window_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return window_json(window, ctx.clock())


@admin.put("/integrations/{integration_id}/maintenance/{window_id}")
async def replace_window(
    integration_id: RowIdPath, window_id: RowIdPath, body: WindowIn, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """Change a window (end one early: `end_at` = now)."""
    store, _ = extras_of(request)
    now = ctx.clock()
    try:
        window = await ctx.db.run(store.window, integration_id, window_id)
        start, end = body.span(window.start_at if body.start_at is None else now)
        changed = await ctx.db.run(store.update_window, window, start, end, body.reason)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return window_json(changed, now)


@admin.delete("/integrations/{integration_id}/maintenance/{window_id}", status_code=204)
async def delete_window(
    integration_id: RowIdPath, window_id: RowIdPath, request: Request, ctx: Ctx
) -> Response:
    store, _ = extras_of(request)
    try:
        await ctx.db.run(store.delete_window, integration_id, window_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)
