"""An ASGI access log that never writes a token and cannot be made to forge a line.

The secret part of `/inbound/<token>`, `/l/<token>` (acknowledge and close links) and
`/ping/<token>` (heartbeat pings) is written `…`; control characters, `"` and `\\` in a path
are escaped (`\\x0a`, `\\"`); a path is cut at `MAX_LOGGED_PATH` characters.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("server.access")

MAX_LOGGED_PATH = 512
_SECRET_PATH = re.compile(r"^/(inbound|l|ping)/[^/?]*")
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029", ord('"'): '\\"', ord("\\"): "\\\\"}


def mask_path(path: str) -> str:
    """A path fit for one log line: tokens masked (`/inbound/…`), escaped, its first 512 chars."""
    cut = path[:MAX_LOGGED_PATH]
    masked = _SECRET_PATH.sub(r"/\1/…", cut).translate(_ESCAPES)
    if len(path) > MAX_LOGGED_PATH:
        masked += f"…(+{len(path) - MAX_LOGGED_PATH} chars)"
    return masked


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
