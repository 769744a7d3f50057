"""The outermost check on every request but the webhook's: admin token first, then body size.

A write under `/api/v1/` (POST, PUT, PATCH, DELETE: the admin API; a plugin's too) without the
admin token is answered 401 before one byte of its body is read. Reads there authenticate as
their route says (`GET /api/v1/stream` also takes a board link).
Every other body (admin API, console forms, acknowledge links) is read here, at most
`[server] max_body_bytes` of it: a longer one (declared or chunked) is answered 413 at once
and the rest is never read. The webhooks (`/inbound/…`, `/v2/enqueue`) read their own bodies
against `inbound_max_body_bytes` and record what was too large in the inbound log.
A JSON body read here that holds a lone surrogate (`"\\ud800"`: not text, nothing could store
it) is answered 400 naming the field, and logged.
"""

from __future__ import annotations

import json
import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth.admin import admin_refusal
from server.context import AppContext
from server.inbound.bodies import lone_surrogate, may_hold_surrogate

log = logging.getLogger("server.bodylimit")

ADMIN_PREFIX = "/api/v1/"
READS = frozenset(("GET", "HEAD", "OPTIONS"))
SELF_LIMITED = ("/inbound/", "/v2/enqueue")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def too_large(limit: int) -> JSONResponse:
    """The 413 for a body over `limit` bytes."""
    return JSONResponse(
        {"detail": f"request body too large: at most {limit} bytes ([server] max_body_bytes)"},
        status_code=413,
        headers={"Connection": "close"},
    )


class BodyLimit:
    """Refuses unauthenticated admin calls unread and bodies over the cap (see the module)."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX) and scope["method"] not in READS:
            refusal = admin_refusal(_header(scope, b"authorization") or "", self.ctx.admin_token)
            if refusal is not None:
                answer = JSONResponse(
                    {"detail": refusal},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer", "Connection": "close"},
                )
                await answer(scope, receive, send)
                return
        if path.startswith(SELF_LIMITED):
            await self.app(scope, receive, send)
            return
        limit = self.ctx.config.server.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        body = await _read_at_most(receive, limit)
        if body is None:
            await too_large(limit)(scope, receive, send)
            return
        problem = _not_text(body)
        if problem is not None:
            log.warning("%s %s refused: %s", scope["method"], path, problem)
            await JSONResponse({"detail": problem}, status_code=400)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _not_text(messages: list[Message]) -> str | None:
    """The lone-surrogate problem of a JSON body, else None (other errors are the app's)."""
    raw = b"".join(m.get("body", b"") for m in messages)
    if not may_hold_surrogate(raw):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return lone_surrogate(raw, value)


async def _read_at_most(receive: Receive, limit: int) -> list[Message] | None:
    """The body's messages, or None as soon as they pass `limit` bytes (the rest unread)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # a disconnect: the app sees it where it would have
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives back `messages`, then whatever comes next (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
