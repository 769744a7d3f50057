"""Console `/reports`: a date range, the table, drills and server-drawn SVG charts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from server.console.core import Sess, api, render
from server.context import get_ctx
from server.reports.queries import GROUP_BYS
from server.reports.svg import Bar, column_chart, duration, row_chart
from server.reports.timezone import resolve_zone

router = APIRouter(include_in_schema=False)

SLOWEST = 10
API = "/api/v1/reports/response-times"


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    session: Sess,
    from_date: str = "",
    to_date: str = "",
    group_by: str = "source",
) -> Response:
    ctx = get_ctx(request)
    zone = resolve_zone(ctx.config.server.timezone)
    today = ctx.clock().astimezone(zone).date()
    error = ""
    try:
        first = date.fromisoformat(from_date) if from_date else today - timedelta(days=6)
        last = date.fromisoformat(to_date) if to_date else today
    except ValueError:
        error = f"dates must look like 2026-03-29 (got {from_date!r} to {to_date!r})"
        first, last = today - timedelta(days=6), today
    # Whole local days: from the first day's midnight to the midnight after the last day.
    params = {
        "from": datetime.combine(first, time(), zone).isoformat(),
        "to": datetime.combine(last + timedelta(days=1), time(), zone).isoformat(),
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    for grouping in dict.fromkeys((group_by, "hour", "day", "source")):
        answer = await api(request, "GET", API, params={**params, "group_by": grouping})
        if not answer.ok:
            error = error or answer.error
            tables[grouping] = []
        else:
            tables[grouping] = answer.body["items"]
    drills = await api(request, "GET", "/api/v1/reports/drills")
    csv_query = f"from={params['from']}&to={params['to']}&group_by={group_by}&format=csv"
    return render(
        request,
        "console/reports.html",
        session,
        error=error,
        first=first.isoformat(),
        last=last.isoformat(),
        group_by=group_by,
        group_bys=GROUP_BYS,
        rows=tables.get(group_by, []),
        drills=drills.body["items"] if drills.ok else [],
        target_s=ctx.config.server.response_target_s,
        zone=zone.key,
        csv_url=API + "?" + csv_query.replace("+", "%2B"),
        charts=_charts(tables, first, last),
        secs=duration,
    )


def _charts(tables: dict[str, list[dict[str, Any]]], first: date, last: date) -> list[Markup]:
    by_hour = {r["key"]: r for r in tables["hour"]}
    hours = [
        Bar(f"{h:02d}", _get(by_hour.get(f"{h:02d}"), "p50_ack_s"), _calls(by_hour.get(f"{h:02d}")))
        for h in range(24)
    ]
    by_day = {r["key"]: r for r in tables["day"]}
    days: list[Bar] = []
    day = first
    while day <= last and len(days) < 400:
        row = by_day.get(day.isoformat())
        days.append(Bar(day.strftime("%d %b"), float(row["alerts"]) if row else 0.0))
        day += timedelta(days=1)
    slow = sorted(
        (r for r in tables["source"] if r["p90_ack_s"] is not None),
        key=lambda r: -float(r["p90_ack_s"]),
    )[:SLOWEST]
    sources = [Bar(r["key"], r["p90_ack_s"], _calls(r)) for r in slow]
    return [
        Markup(column_chart("Median time to acknowledge, by hour of day", hours, "s")),
        Markup(column_chart("Calls per day", days, "calls")),
        Markup(row_chart("Slowest sources (90th percentile to acknowledge)", sources, "s")),
    ]


def _get(row: dict[str, Any] | None, name: str) -> float | None:
    return None if row is None else row[name]


def _calls(row: dict[str, Any] | None) -> str:
    return "" if row is None else f" ({row['alerts']} calls)"
