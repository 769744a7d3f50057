"""The values that flow through the bridge: click types, raw clicks from sources, clicks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ClickType(enum.StrEnum):
    """What the button did; names are the contract's click types."""

    SINGLE = "single"
    DOUBLE = "double"
    HOLD = "hold"
    CLICK = "click"  # released within 1 s, no double-click wait
    DOWN = "down"
    UP = "up"
    # Flic Duo gestures (names as the vendor's pyflic-ble calls them); `button_number` says which.
    SWIPE_LEFT = "swipe_left"
    SWIPE_RIGHT = "swipe_right"
    SWIPE_UP = "swipe_up"
    SWIPE_DOWN = "swipe_down"
    # Turning: `twist_*` the Twist's dial on its own, `push_twist_*` while pushed (the Duo turns
    # only while a button is held). Right is clockwise. One click per 1/12 turn (a detent).
    TWIST_LEFT = "twist_left"
    TWIST_RIGHT = "twist_right"
    PUSH_TWIST_LEFT = "push_twist_left"
    PUSH_TWIST_RIGHT = "push_twist_right"
    SELECTOR_CHANGED = "selector_changed"  # the Twist's selector moved to one of its 12 positions


@dataclass(frozen=True, slots=True)
class RawClick:
    """A click as a source saw it, before the bridge names it and gives it an id.

    `event_id` is set only by sources whose sender mints ids (the hub module), so a
    retried post keeps its id; otherwise the runtime mints one on arrival.
    """

    address: str  # lower-case "aa:bb:cc:dd:ee:ff"
    click_type: ClickType
    source: str  # "flicd" | "ble" | "hub" | "api" | "mqtt"
    pressed_at: datetime  # aware UTC; for a queued press, its real press time
    queued: bool = False
    queued_s: float = 0.0
    event_id: str | None = None
    name_hint: str | None = None  # the sender's name for the button (hub), used if unconfigured
    drill: bool = False  # `flic-bridge press --drill`: the server marks the alert a drill
    button_number: int | None = None  # Flic Duo: 0 the big button, 1 the small one
    position: int | None = None  # Flic Twist `selector_changed`: the position it moved to (0-11)


@dataclass(frozen=True, slots=True)
class ButtonSeen:
    """A source's news about a button: connection state and/or battery."""

    address: str
    source: str
    seen_at: datetime
    connected: bool | None = None
    battery: int | None = None  # percent
    name_hint: str | None = None  # the sender's name for the button (hub), used if unconfigured


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source's news about itself: `up` once connected, so the supervisor can log recovery."""

    source: str
    state: str  # "up" | "down" | ... (free text shown on the status page)
    at: datetime
    detail: str = ""


SourceEvent = RawClick | ButtonSeen | SourceState


@dataclass(frozen=True, slots=True)
class ClickEvent:
    """A click the bridge has accepted: named, with its event id, ready for the outbox."""

    event_id: str
    button_address: str
    button_name: str
    click_type: ClickType
    source: str
    pressed_at: datetime
    received_at: datetime
    queued: bool
    queued_s: float
    drill: bool = False  # sent as `"drill": true`: the server pages it marked DRILL
    button_number: int | None = None
    position: int | None = None
