"""An ASGI access log that never writes an inbound token: `/inbound/…` is masked."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("server.access")

_INBOUND = re.compile(r"^/inbound/[^/?]*")


def mask_path(path: str) -> str:
    """`/inbound/<token>...` → `/inbound/…`; other paths unchanged."""
    return _INBOUND.sub("/inbound/…", path)


def log_request(scope: Scope, status: int, started: float) -> None:
    """One access-log line: client, method, masked path, status, duration since `started`."""
    client = scope.get("client") or ("-", 0)
    log.info(
        '%s "%s %s" %d %.1fms',
        client[0],
        scope["method"],
        mask_path(scope["path"]),
        status,
        (time.perf_counter() - started) * 1000,
    )


class AccessLog:
    """Logs method, masked path, status and duration of every HTTP request (no query string)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_request(scope, status["code"], started)
