"""The seam every delivery target implements; the outbox drives it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Sink(Protocol):
    """A delivery target. `name` is the target key stored in outbox rows (stable across runs).

    `deliver` gets the forwarded body exactly as stored in the outbox (the contract's webhook
    body, which carries `event_id`) and returns once the target has accepted it; it raises
    `bridge.errors.DeliveryError` otherwise, with `permanent=True` when retrying cannot help.
    """

    name: str

    async def start(self) -> None: ...

    async def deliver(self, body: Mapping[str, Any]) -> None: ...

    async def close(self) -> None: ...
