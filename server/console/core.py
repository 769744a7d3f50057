"""What every console page needs: state, the login check, the internal API client, rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from server.console.format import register_filters
from server.console.sessions import (
    ACCOUNT_FAILURES_LIMIT,
    ACCOUNT_FAILURES_WINDOW_S,
    SESSION_COOKIE,
    ConsoleError,
    LoginRequiredError,
    LoginThrottle,
    Session,
    SessionStore,
    check_csrf,
)
from server.context import AppContext, get_ctx

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
INTERNAL_BASE = "http://console.internal"
# No inline script or style anywhere, no framing (the ack buttons cannot be clickjacked).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class ConsoleState:
    """The console's parts, one per app (`ctx.part(ConsoleState)`)."""

    templates: Jinja2Templates
    sessions: SessionStore
    throttle: LoginThrottle
    account_throttle: LoginThrottle


def new_state(ctx: AppContext) -> ConsoleState:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    register_filters(templates.env)
    return ConsoleState(
        templates=templates,
        sessions=SessionStore(ctx.store.db),
        throttle=LoginThrottle(),
        account_throttle=LoginThrottle(ACCOUNT_FAILURES_LIMIT, ACCOUNT_FAILURES_WINDOW_S),
    )


def console_state(request: Request) -> ConsoleState:
    return get_ctx(request).part(ConsoleState)


async def session_of(request: Request) -> Session | None:
    """The session the request's cookie names, if it is live."""
    ctx = get_ctx(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return await ctx.db.run(console_state(request).sessions.find, cookie, ctx.clock())


async def current_session(request: Request) -> Session:
    """FastAPI dependency: the logged-in session, else a redirect to the login page."""
    session = await session_of(request)
    if session is None:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise LoginRequiredError(target)
    return session


Sess = Annotated[Session, Depends(current_session)]


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str:
        """The API's explanation of a refusal, flattened to one readable line."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else self.body
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                    parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg")))
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        return str(detail)


async def api(
    request: Request,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> ApiAnswer:
    """Call this server's own admin API in-process, so the console obeys the same rules."""
    ctx: AppContext = get_ctx(request)
    transport = httpx.ASGITransport(app=request.app)
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL_BASE) as client:
        response = await client.request(
            method,
            path,
            json=json,
            params=clean,
            headers={"Authorization": f"Bearer {ctx.admin_token}"},
        )
    body: Any = response.json() if response.content else None
    return ApiAnswer(response.status_code, body)


async def api_ok(request: Request, method: str, path: str, **kwargs: Any) -> Any:
    """Like `api`, but a refusal becomes a console error page."""
    answer = await api(request, method, path, **kwargs)
    if not answer.ok:
        raise ConsoleError(answer.status if answer.status < 500 else 502, answer.error)
    return answer.body


async def checked_form(request: Request, session: Session) -> FormData:
    """The posted form, once its CSRF token is right."""
    form = await request.form()
    check_csrf(form, request, session)
    return form


def render(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ctx = get_ctx(request)
    now: datetime = ctx.clock()
    return console_state(request).templates.TemplateResponse(
        request,
        template,
        {"session": session, "now": now, "path": request.url.path, **context},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get: after a form, show the page again with a plain GET."""
    return RedirectResponse(url, status_code=303)


def inbound_url(request: Request, inbound_path: str) -> str:
    """The full URL a sender should post to (public_url when configured)."""
    base = get_ctx(request).config.server.public_url or str(request.base_url)
    return base.rstrip("/") + inbound_path
