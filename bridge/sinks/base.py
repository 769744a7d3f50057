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


def takes_every_click(sink: Sink) -> bool:
    """Whether a target also gets the clicks a mapping does not forward (`every_click = True`:
    MQTT, so Home Assistant sees every press); webhooks get only On/Off clicks."""
    return bool(getattr(sink, "every_click", False))
