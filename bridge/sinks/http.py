"""Webhook delivery: POST the contract body with `Idempotency-Key` to one `[[forward]]` url."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bridge.errors import DeliveryError

# Retrying cannot change the answer to these; 408 and 429 say "later", so they are not here.
_RETRYABLE_4XX = frozenset({408, 429})


def is_permanent(status: int) -> bool:
    """Whether an HTTP status means the target will never take this body."""
    return 400 <= status < 500 and status not in _RETRYABLE_4XX


class HttpSink:
    """One webhook target; `name` is the outbox target key."""

    def __init__(self, name: str, url: str, *, timeout_s: float = 10.0) -> None:
        self.name = name
        self.url = url
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)

    async def deliver(self, body: Mapping[str, Any]) -> None:
        if self._client is None:
            await self.start()
        assert self._client is not None
        headers = {"Idempotency-Key": str(body["event_id"]), "User-Agent": "flic-bridge"}
        try:
            response = await self._client.post(self.url, json=dict(body), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc or 'no answer'}") from exc
        if response.is_success:
            return
        detail = f"HTTP {response.status_code}: {response.text[:200]}"
        raise DeliveryError(detail, permanent=is_permanent(response.status_code))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
