"""The console's `/bridges` page: every bridge with its last report, silent ones first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from server.console.core import Sess, api_ok, render

console_router = APIRouter(include_in_schema=False)


@console_router.get("/bridges", response_class=HTMLResponse)
async def bridges_page(request: Request, session: Sess) -> Response:
    body = await api_ok(request, "GET", "/api/v1/bridges")
    items = sorted(body["items"], key=lambda b: (b["status"] != "silent", b["name"]))
    return render(
        request,
        "console/bridges.html",
        session,
        bridges=items,
        silent_after_s=body["silent_after_s"],
    )
