"""`/healthz`, `/metrics` and the placeholder `/` (the console replaces it)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from server.context import Ctx

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(ctx: Ctx) -> JSONResponse:
    """`{"status": "ok"}` once the database answers."""
    try:
        await ctx.db.run(ctx.store.db.execute, "SELECT 1")
    except Exception as exc:
        return JSONResponse({"status": "error", "detail": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(ctx: Ctx) -> PlainTextResponse:
    collected = await ctx.db.run(ctx.metrics.collect)
    return PlainTextResponse(
        ctx.metrics.render(collected), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><title>alert-server</title><h1>alert-server</h1>"
        '<p>The console is not built yet. See the <a href="/docs">API docs</a>.</p>'
    )
