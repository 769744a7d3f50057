"""`/api/v1/reports`: response times (JSON or CSV) and drills, admin-auth."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.responses import Response

from server.auth.admin import require_admin
from server.context import AppContext, Ctx
from server.reports.console import router as console_router
from server.reports.csvout import rows_csv
from server.reports.params import ReportParamError, ReportRange, parse_range
from server.reports.queries import DrillRow, ResponseRow, drills, response_times
from server.reports.timezone import resolve_zone

router = APIRouter(
    prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(require_admin)]
)


def checked_range(
    ctx: AppContext, from_: str | None, to: str | None, group_by: str | None
) -> ReportRange:
    """The request's range, or a 422 naming the problem."""
    try:
        return parse_range(from_, to, group_by, now=ctx.clock())
    except ReportParamError as exc:
        raise HTTPException(422, str(exc)) from exc


async def run_report(ctx: AppContext, wanted: ReportRange) -> list[ResponseRow]:
    """The response-time rows of a checked range, on the database thread."""
    server = ctx.config.server
    zone = resolve_zone(server.timezone)
    now = ctx.clock()
    return await ctx.db.run(
        lambda: response_times(
            ctx.store.db,
            from_at=wanted.from_at,
            to_at=wanted.to_at,
            group_by=wanted.group_by,
            zone=zone,
            target_s=server.response_target_s,
            now=now,
        )
    )


async def run_drills(ctx: AppContext) -> list[DrillRow]:
    return await ctx.db.run(lambda: drills(ctx.store.db))


@router.get("/response-times", response_model=None)
async def response_times_report(
    ctx: Ctx,
    from_: str | None = Query(default=None, alias="from"),
    to: str | None = None,
    group_by: str | None = None,
    format: str = "json",
) -> dict[str, Any] | Response:
    if format not in ("json", "csv"):
        raise HTTPException(422, f"format: unknown {format!r} (json or csv)")
    wanted = checked_range(ctx, from_, to, group_by)
    rows = await run_report(ctx, wanted)
    if format == "csv":
        name = f"response-times-{wanted.group_by}.csv"
        return Response(
            rows_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {
        "items": [asdict(r) for r in rows],
        "target_s": ctx.config.server.response_target_s,
        "from": wanted.from_at.isoformat(),
        "to": wanted.to_at.isoformat(),
        "group_by": wanted.group_by,
        "timezone": resolve_zone(ctx.config.server.timezone).key,
    }


@router.get("/drills")
async def drills_report(ctx: Ctx) -> dict[str, Any]:
    return {"items": [asdict(r) for r in await run_drills(ctx)]}


def reports_plugin(app: FastAPI, ctx: AppContext) -> None:
    """The reports API and console page."""
    app.include_router(router)
    app.include_router(console_router)
