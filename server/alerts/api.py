"""Admin API for alerts: list, detail with timeline, acknowledge, close."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from server.alerts.actions import acknowledge_alert, close_alert
from server.alerts.journey import read_journey
from server.alerts.store import Alert, ConflictError, NotFoundError
from server.auth.admin import require_admin
from server.context import AppContext, Ctx
from server.integrations.extras_store import ExtrasStore

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[Depends(require_admin)])


def alert_json(alert: Alert) -> dict[str, Any]:
    return asdict(alert)


@router.get("")
async def list_alerts(
    ctx: Ctx,
    status: Literal["open", "acknowledged", "closed"] | None = None,
    integration_id: int | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    items = await ctx.db.run(
        lambda: ctx.store.list_alerts(status=status, integration_id=integration_id, limit=limit)
    )
    return {"items": [alert_json(a) for a in items]}


@router.get("/{alert_id}")
async def get_alert(alert_id: int, ctx: Ctx) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        alert = ctx.store.get_alert(alert_id)
        timeline = ctx.store.timeline(alert_id)
        out = alert_json(alert)
        out["timeline"] = [asdict(e) for e in timeline]
        out["journey"] = read_journey(ExtrasStore(ctx.store.db), alert, timeline)
        return out

    try:
        return await ctx.db.run(read)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/{alert_id}/acknowledge")
async def acknowledge(alert_id: int, ctx: Ctx) -> dict[str, Any]:
    return await _act(acknowledge_alert, ctx, alert_id)


@router.post("/{alert_id}/close")
async def close(alert_id: int, ctx: Ctx) -> dict[str, Any]:
    return await _act(close_alert, ctx, alert_id)


async def _act(
    action: Callable[..., Awaitable[Alert]], ctx: AppContext, alert_id: int
) -> dict[str, Any]:
    try:
        alert = await action(ctx, alert_id, by="admin API")
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    return alert_json(alert)
