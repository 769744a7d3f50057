"""Console login and logout: the admin token, or a user's name or email and password."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from server.auth.passwords import DUMMY_HASH, Account, PasswordStore, verify_password
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


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _check_password(request: Request, login_name: str, password: str) -> Account | None:
    """The one account that `login_name` names and `password` opens, else None."""
    ctx = get_ctx(request)
    accounts = await ctx.db.run(PasswordStore(ctx.store.db).accounts, login_name)
    if len(accounts) != 1:  # unknown, or a name two users share: ask for the email
        await asyncio.to_thread(verify_password, password, DUMMY_HASH)
        return None
    ok = await asyncio.to_thread(verify_password, password, accounts[0].password_hash)
    return accounts[0] if ok else None


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
    state = console_state(request)
    now = ctx.clock()
    login_name = _field(form, "login")
    address = f"address:{request.client.host if request.client else '?'}"
    account = f"account:{login_name.lower()}" if login_name else None
    # Counted (as failed) before checking, with no await in between: concurrent guesses
    # beyond the limit are refused, not all checked at once.
    wait_s = state.throttle.attempt(address, now)
    if wait_s == 0.0 and account is not None:
        wait_s = state.account_throttle.attempt(account, now)
        if wait_s > 0:
            state.throttle.succeeded(address, now)  # refused unchecked: not a guess
    if wait_s > 0:
        response = _login_page(
            request, next_path, f"Too many failed logins: try again in {wait_s:.0f} s.", 429
        )
        response.headers["Retry-After"] = str(max(1, round(wait_s)))
        return response
    if account is None:
        token = _field(form, "token")
        if not same_token(token, ctx.admin_token):
            return _login_page(request, next_path, "Wrong admin token.", 401)
        who, user_id = "admin", None
    else:
        password = form.get("password")
        given = password if isinstance(password, str) else ""
        found = await _check_password(request, login_name, given)
        if found is None:
            return _login_page(request, next_path, "Wrong user name, email or password.", 401)
        who, user_id = found.name, found.user_id
        state.account_throttle.succeeded(account, now)
    state.throttle.succeeded(address, now)
    session = await ctx.db.run(state.sessions.create, who, now, user_id)
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
    await get_ctx(request).db.run(console_state(request).sessions.drop, session.session_id)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
