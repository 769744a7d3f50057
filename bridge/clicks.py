"""Pure click policy: which state a click sends, which click types a button hears, and the
forwarded webhook body (shared by the pipeline, the sources and MQTT discovery)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.config import ButtonSpec
from bridge.models import ClickEvent, ClickType
from edgecommon.timefmt import iso_utc

# Other views of the same press: `click` (single without the double-click wait), `down`, `up`.
# A button hears them only when its mapping asks for them, so one press stays one message.
PRESS_VIEWS = frozenset({ClickType.CLICK, ClickType.DOWN, ClickType.UP})
# A Flic Duo's and a Flic Twist's gestures: offered (to Home Assistant) only for a button whose
# mapping names one of them, so a plain Flic 2 does not list swipes it can never make.
GESTURES = frozenset(ClickType) - {
    ClickType.SINGLE,
    ClickType.DOUBLE,
    ClickType.HOLD,
    *PRESS_VIEWS,
}
# What each of them can make beyond a press (offered to Home Assistant once it is paired).
DUO_GESTURES = frozenset(
    {
        ClickType.SWIPE_LEFT,
        ClickType.SWIPE_RIGHT,
        ClickType.SWIPE_UP,
        ClickType.SWIPE_DOWN,
        ClickType.PUSH_TWIST_LEFT,
        ClickType.PUSH_TWIST_RIGHT,
    }
)
TWIST_GESTURES = GESTURES - DUO_GESTURES | {ClickType.PUSH_TWIST_LEFT, ClickType.PUSH_TWIST_RIGHT}


def state_for(button: ButtonSpec, click_type: ClickType) -> str | None:
    """`On`, `Off`, or None when the button's mapping does not forward this click type."""
    if click_type in button.on:
        return "On"
    if click_type in button.off:
        return "Off"
    return None


def heard_click_types(button: ButtonSpec) -> frozenset[ClickType]:
    """Every click type the bridge takes from this button, mapped to On/Off or not.

    Every click type but the other views of a press (new types a source learns come along by
    themselves; gestures only when the mapping names one), plus whatever the mapping names;
    a button mapped with `click` (no double-click wait) hears `click` instead of
    `single`/`double`.
    """
    every = frozenset(c for c in ClickType if c not in PRESS_VIEWS | GESTURES)
    if button.click_types & GESTURES:
        every |= GESTURES
    if ClickType.CLICK in button.click_types:
        every -= {ClickType.SINGLE, ClickType.DOUBLE}
    return every | button.click_types


def forward_body(
    event: ClickEvent,
    button: ButtonSpec,
    state: str | None,
    bridge_name: str,
    stored_at: datetime | None = None,
) -> dict[str, Any]:
    """The contract's webhook body for one click (the Flic guide's keys first).

    `state` is None for a click type the mapping does not forward: that body goes only to
    targets that take every click (MQTT), never to a webhook.

    `priority` is there when the button's `priority_on` names this click type.
    `received_at` and `stored_at` (beside the contract's keys) give the server the press's
    journey; the dispatcher adds `attempt` to each delivery. A Flic Duo's click carries
    `button_number`, a Flic Twist's `selector_changed` its `position`.
    """
    body: dict[str, Any] = {
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
    if event.drill:
        body["drill"] = True  # only on drills, so every other body stays as the contract shows
    priority = dict(button.priority_on).get(event.click_type)
    if priority is not None:  # only when asked for: the server's default is `normal`
        body["priority"] = priority
    # Only multi-button and dial devices say these (new optional keys: old receivers ignore them).
    if event.button_number is not None:
        body["button_number"] = event.button_number
    if event.position is not None:
        body["position"] = event.position
    return body


def _seconds(value: float) -> int | float:
    """Whole seconds as an int (flicd reports whole seconds), otherwise milliseconds."""
    return int(value) if float(value).is_integer() else round(value, 3)
