"""Pure click policy: which state a click sends, and the forwarded webhook body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.config import ButtonSpec
from bridge.models import ClickEvent, ClickType


def state_for(button: ButtonSpec, click_type: ClickType) -> str | None:
    """`On`, `Off`, or None when the button's mapping does not forward this click type."""
    if click_type in button.on:
        return "On"
    if click_type in button.off:
        return "Off"
    return None


def iso_utc(at: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with milliseconds and a `Z`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def forward_body(
    event: ClickEvent,
    button: ButtonSpec,
    state: str,
    bridge_name: str,
    stored_at: datetime | None = None,
) -> dict[str, Any]:
    """The contract's webhook body for one click (the Flic guide's keys first).

    `received_at` and `stored_at` (beside the contract's keys) give the server the press's
    journey; the dispatcher adds `attempt` to each delivery.
    """
    return {
        "flic_nameId": event.button_name,
        "flic_state": state,
        "info": button.info,
        "click_type": event.click_type.value,
        "button_address": event.button_address,
        "source": event.source,
        "event_id": event.event_id,
        "pressed_at": iso_utc(event.pressed_at),
        "queued": event.queued,
        "queued_seconds": _seconds(event.queued_s),
        "bridge": bridge_name,
        "received_at": iso_utc(event.received_at),
        "stored_at": iso_utc(event.received_at if stored_at is None else stored_at),
    }


def _seconds(value: float) -> int | float:
    """Whole seconds as an int (flicd reports whole seconds), otherwise milliseconds."""
    return int(value) if float(value).is_integer() else round(value, 3)
