"""Console login and logout (admin token; users have no passwords yet)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.console.core import Sess, console_state, render, see_other
from server.console.sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    same_token,
)
from server.context import get_ctx

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def _secure(request: Request) -> bool:
    public = get_ctx(request).config.server.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _login_page(request: Request, next_path: str, error: str = "", status: int = 200) -> Response:
    login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "console/login.html",
        None,
        status_code=status,
        next_path=next_path,
        login_csrf=login_csrf,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        login_csrf,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    next_path = safe_next(str(form.get("next") or "/"))
    given_csrf = form.get(CSRF_FIELD)
    cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE)
    if cookie_csrf is None or not same_token(
        given_csrf if isinstance(given_csrf, str) else None, cookie_csrf
    ):
        return _login_page(
            request, next_path, "The form expired or came from elsewhere: try again.", 403
        )
    ctx = get_ctx(request)
    throttle = console_state(request).throttle
    wait_s = throttle.blocked_for_s(ctx.clock())
    if wait_s > 0:
        response = _login_page(
            request, next_path, f"Too many wrong tokens: try again in {wait_s:.0f} s.", 429
        )
        response.headers["Retry-After"] = str(max(1, round(wait_s)))
        return response
    token = form.get("token")
    if not isinstance(token, str) or not same_token(token.strip(), ctx.admin_token):
        throttle.failed(ctx.clock())
        return _login_page(request, next_path, "Wrong admin token.", 401)
    session = console_state(request).sessions.create("admin", ctx.clock())
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.session_id,
        max_age=int(console_state(request).sessions.ttl_s),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: Sess) -> Response:
    form = await request.form()
    check_csrf(form, request, session)
    console_state(request).sessions.drop(session.session_id)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
