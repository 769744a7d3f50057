"""Webhook delivery: POST the contract body with `Idempotency-Key` to one `[[forward]]` target.

A target may list several URLs (`urls`, e.g. alert-servers sharing one database): a click goes
to the URL in use; when that one cannot be reached, times out or answers 5xx, the same body
with the same key goes at once to the next, and the one that took it stays in use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bridge.errors import DeliveryError

log = logging.getLogger(__name__)

# Retrying cannot change the answer to these; 408 and 429 say "later", so they are not here.
_RETRYABLE_4XX = frozenset({408, 429})


def is_permanent(status: int) -> bool:
    """Whether an HTTP status means the target will never take this body."""
    return 400 <= status < 500 and status not in _RETRYABLE_4XX


class _UnavailableError(Exception):
    """This URL is away (no answer, timeout, 5xx): the next one may take the click."""


class HttpSink:
    """One webhook target; `name` is the outbox target key."""

    def __init__(self, name: str, url: str | Sequence[str], *, timeout_s: float = 10.0) -> None:
        self.name = name
        self.urls: tuple[str, ...] = (url,) if isinstance(url, str) else tuple(url)
        if not self.urls:
            raise ValueError("a webhook target needs at least one URL")
        self._in_use = 0
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        """The URL in use: the one that took the last click (the first at start)."""
        return self.urls[self._in_use]

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)

    async def deliver(self, body: Mapping[str, Any]) -> None:
        if self._client is None:
            await self.start()
        headers = {"Idempotency-Key": str(body["event_id"]), "User-Agent": "flic-bridge"}
        errors: list[str] = []
        count = len(self.urls)
        for step in range(count):
            index = (self._in_use + step) % count
            try:
                await self._post(self.urls[index], body, headers)
            except _UnavailableError as exc:
                errors.append(str(exc))
                if count > 1:
                    log.warning("target %s: %s", self.name, exc)
                continue
            if index != self._in_use:
                log.warning("target %s: now delivering to %s", self.name, self.urls[index])
                self._in_use = index
            return
        raise DeliveryError("; ".join(errors))

    async def _post(self, url: str, body: Mapping[str, Any], headers: dict[str, str]) -> None:
        assert self._client is not None
        where = f"{url}: " if len(self.urls) > 1 else ""
        try:
            response = await self._client.post(url, json=dict(body), headers=headers)
        except httpx.HTTPError as exc:
            reason = str(exc) or "no answer"
            raise _UnavailableError(f"{where}{type(exc).__name__}: {reason}") from exc
        if response.is_success:
            return
        detail = f"{where}HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code >= 500:
            raise _UnavailableError(detail)
        # A 4xx is this target's answer about the body (or "later"): another URL is not asked.
        raise DeliveryError(detail, permanent=is_permanent(response.status_code))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
