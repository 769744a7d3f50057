"""The console as a server plugin: its routers, static files, and login redirects."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from server.auth import api as passwords
from server.console import alerts, auth, inbound, integrations, maintenance, people
from server.console.core import STATIC_DIR, new_state, render, session_of
from server.console.sessions import ConsoleError, LoginRequiredError
from server.context import AppContext


def console_plugin(app: FastAPI, ctx: AppContext) -> None:
    """Serve the web console at `/` (it replaces any placeholder index page)."""
    ctx.provide(new_state(ctx))
    before = len(app.router.routes)
    for module in (auth, alerts, inbound, integrations, maintenance, people):
        app.include_router(module.router)
    app.include_router(passwords.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    # Starlette serves the first matching route: put the console's ahead of any
    # placeholder index page an earlier plugin registered at `/`.
    ours = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = ours
    app.add_exception_handler(LoginRequiredError, _to_login)
    app.add_exception_handler(ConsoleError, _error_page)


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


async def _error_page(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, ConsoleError)
    session = await session_of(request)
    return render(
        request, "console/error.html", session, status_code=exc.status, message=exc.message
    )
