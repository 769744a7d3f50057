"""`POST /api/v1/bridges` (a bridge's report) and `GET /api/v1/bridges` (every bridge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from server.auth.admin import require_admin
from server.bridges.monitor import BridgeMonitor, silent_since, source_of
from server.bridges.store import Bridge, BridgeReport
from server.context import Ctx, get_ctx

router = APIRouter(prefix="/api/v1", tags=["bridges"], dependencies=[Depends(require_admin)])

MAX_BUTTONS = 1000


class ReportIn(BaseModel):
    """A bridge's health report; fields beyond these are kept as sent (shown in the console)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    status: str = Field(default="ok", min_length=1, max_length=40)
    buttons: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_BUTTONS)
    outbox_pending: int = Field(default=0, ge=0)


def monitor_of(request: Request) -> BridgeMonitor:
    return get_ctx(request).part(BridgeMonitor)


def bridge_json(bridge: Bridge, now: datetime, silent_after_s: float) -> dict[str, Any]:
    silent = bridge.silent_at is not None or now >= silent_since(bridge, silent_after_s)
    return {
        "name": bridge.name,
        "source_name": source_of(bridge.name),
        "last_report_at": bridge.last_report_at,
        "first_report_at": bridge.first_report_at,
        # The bridge's own word unless it has gone quiet: then "silent".
        "status": "silent" if silent else bridge.status,
        "reported_status": bridge.status,
        "silent_at": bridge.silent_at,
        "buttons": bridge.report.get("buttons", []),
        "outbox_pending": bridge.outbox_pending,
        "report": bridge.report,
    }


@router.post("/bridges", status_code=202)
async def report(body: ReportIn, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Take one bridge's report; answers the bridge as the server now lists it."""
    monitor = monitor_of(request)
    detail = body.model_dump(mode="json")
    stored = await monitor.report(
        BridgeReport(
            name=body.name,
            status=body.status,
            buttons=len(body.buttons),
            outbox_pending=body.outbox_pending,
            detail=detail,
        )
    )
    return bridge_json(stored, ctx.clock(), monitor.silent_after_s)


@router.get("/bridges")
async def list_bridges(request: Request, ctx: Ctx) -> dict[str, Any]:
    """Every bridge that ever reported, by name."""
    monitor = monitor_of(request)
    now = ctx.clock()
    bridges = await ctx.db.run(monitor.store.bridges)
    return {
        "items": [bridge_json(b, now, monitor.silent_after_s) for b in bridges],
        "silent_after_s": monitor.silent_after_s,
    }
