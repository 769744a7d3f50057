"""`POST /inbound/{token}`: the secret webhook URL integrations post to (no admin auth)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from server.accesslog import log as access_log
from server.accesslog import log_request, mask_path
from server.alerts.store import InboundOutcome
from server.context import AppContext, Ctx
from server.inbound.pipeline import accept, record_too_large
from server.inbound.ratelimit import retry_after_header

log = logging.getLogger("server.api.inbound")
router = APIRouter()

MAX_IDEMPOTENCY_KEY = 255
_INBOUND_PATH = re.compile(r"/inbound/([^/]+)")

StorageErrorHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def outcome_body(outcome: InboundOutcome) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": outcome.message_id,
        "status": outcome.status,
        "action": outcome.action,
        "alert_id": outcome.alert_id,
    }
    if outcome.http_status != 202 or outcome.status == "mapping_failed":
        body["detail"] = outcome.reason
    return body


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class Answer(JSONResponse):
    """`JSONResponse` with one shared encoder (`json.dumps` with options builds one a call)."""

    def render(self, content: Any) -> bytes:
        return _JSON.encode(content).encode()


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return Answer({"detail": detail}, status_code=status, headers=headers)


_WANTED = frozenset((b"content-type", b"content-length", b"idempotency-key"))


def webhook_headers(scope: Scope) -> dict[bytes, str]:
    """The headers the webhook reads, in one pass (the first of each; ASGI names are lower case)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


@router.post("/inbound/{token}", status_code=202, tags=["inbound"])
async def inbound(token: str, request: Request, ctx: Ctx) -> JSONResponse:
    """Accept one message; 202 once it is on disk with its status, action and alert."""
    return await handle_inbound(ctx, token, request)


class InboundFastPath:
    """`POST /inbound/{token}` straight to `handle_inbound`, ahead of the middleware stack.

    The webhook is the hot path: `AlertServerApp` sends it here before Starlette's error
    middleware, FastAPI's route matching and dependency solving (most of the event loop's time
    per request under load). The FastAPI route above stays for the OpenAPI schema and behaves
    the same; this writes the same access-log line and turns errors into the same answers.
    """

    def __init__(self, ctx: AppContext, on_storage_error: StorageErrorHandler) -> None:
        self.ctx = ctx
        self.on_storage_error = on_storage_error

    @staticmethod
    def token_of(scope: Scope) -> str | None:
        """The token when this request is a webhook post, else None."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        found = _INBOUND_PATH.fullmatch(scope["path"])
        return None if found is None else found.group(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, token: str) -> None:
        started = time.perf_counter()
        request = Request(scope, receive)
        try:
            response = await handle_inbound(self.ctx, token, request)
        except self.ctx.store.db.unavailable_errors as exc:
            response = await self.on_storage_error(request, exc)
        except Exception:
            log.exception("inbound message failed (%s)", mask_path(scope["path"]))
            response = _error(
                500,
                "internal error: the message may not be stored; retry it (with the same"
                " Idempotency-Key a retry is never stored twice)",
            )
        await response(scope, receive, send)
        if access_log.isEnabledFor(logging.INFO):
            log_request(scope, response.status_code, started)


async def handle_inbound(ctx: AppContext, token: str, request: Request) -> JSONResponse:
    """The webhook: find the integration, check limits, read the body, accept it."""
    integration = ctx.store.cached_integration(token)
    if integration is None:
        integration = await ctx.db.run(ctx.store.find_integration_by_token, token)
    if integration is None:
        ctx.metrics.inc("alert_server_inbound_rejected_total", reason="unknown_token")
        return _error(404, "unknown inbound token (wrong, rotated or deleted integration)")
    wait_s = ctx.limiter.check(integration.id)
    if wait_s > 0:
        ctx.metrics.inc("alert_server_inbound_rejected_total", reason="rate_limited")
        return _error(
            429,
            f"too many messages for integration {integration.id}; retry later",
            {"Retry-After": retry_after_header(wait_s)},
        )
    headers = webhook_headers(request.scope)
    key = headers.get(b"idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        return _error(400, f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    content_type = headers.get(b"content-type", "")
    limit = ctx.config.server.inbound_max_body_bytes
    try:
        raw, too_large = await read_limited(request, limit, headers.get(b"content-length"))
    except ClientDisconnect:
        # Nothing was accepted, so nothing is logged: the sender never got an answer.
        ctx.metrics.inc("alert_server_inbound_rejected_total", reason="client_disconnected")
        return _error(400, "the client disconnected before the whole body arrived")
    if too_large:
        outcome = await record_too_large(ctx, integration, raw, content_type, limit)
        return Answer(outcome_body(outcome), status_code=413)
    handler = ctx.inbound_handlers.get(integration.kind)
    if handler is not None:  # a kind with its own wire format (PagerDuty, Alertmanager, ...)
        response: JSONResponse = await handler(ctx, integration, raw, content_type, key)
        return response
    outcome = await accept(ctx, integration, raw, content_type, idempotency_key=key)
    replayed = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return Answer(outcome_body(outcome), status_code=outcome.http_status, headers=replayed)


async def read_limited(
    request: Request, limit: int, declared: str | None = None
) -> tuple[bytes, bool]:
    """The body, or its first bytes and True once it passes `limit` (Content-Length first)."""
    if declared is None:
        declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:  # straight from ASGI `receive` (what `request.stream()` does, minus its layers)
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks), True
    return b"".join(chunks), False
