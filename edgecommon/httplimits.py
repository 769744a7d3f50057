"""Read deadlines and a connection cap for uvicorn, so slow clients cannot starve a server.

uvicorn bounds only the idle time between requests (`timeout_keep_alive`); a client that
connects and trickles its headers one byte a minute holds its connection for ever, and a
few hundred of them use up the process's file descriptors. Here every request must finish
its headers within `header_timeout_s` of its first byte (or of the connection, for the
first) and its body within `body_timeout_s` after that; past the deadline the connection
is answered 408 (headers) or closed (body). `limit_concurrency` answers 503 to requests
beyond `max_connections` open connections instead of accepting without end.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 5.0
MAX_CONNECTIONS = 1000

_TIMEOUT_BODY = b"request headers not received in time\n"
_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How long a client may take to send a request, and how many may be connected."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    keep_alive_s: float = KEEP_ALIVE_S
    max_connections: int = MAX_CONNECTIONS


class _DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on headers and one on the body."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, stage: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, stage, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, stage: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.info("closed the connection from %s: %s not in within %g s", client, stage, seconds)
        if stage == "request headers":
            self.transport.write(_TIMEOUT_408)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "request headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm(self.header_timeout_s, "request headers")

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout_s, "request body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def uvicorn_limits(limits: HttpLimits) -> dict[str, Any]:
    """The `uvicorn.Config` keywords that enforce `limits`."""
    protocol = type(
        "DeadlineHttpToolsProtocol",
        (_DeadlineProtocol,),
        {"header_timeout_s": limits.header_timeout_s, "body_timeout_s": limits.body_timeout_s},
    )
    return {
        "http": protocol,
        "timeout_keep_alive": limits.keep_alive_s,
        "limit_concurrency": limits.max_connections,
    }
