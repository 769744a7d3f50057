"""What a Flic 2 session reports: pairing, verify, presses, battery, name, firmware."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.flic2.pairing import Pairing
from bridge.models import ClickType


@dataclass(frozen=True, slots=True)
class Paired:
    """Full verify succeeded: store `pairing` for quick verify."""

    pairing: Pairing
    battery_mv: int


@dataclass(frozen=True, slots=True)
class Verified:
    """Quick verify with the stored pairing succeeded."""


@dataclass(frozen=True, slots=True)
class Press:
    """A click type the button reported, with its real press time."""

    click_type: ClickType
    event_count: int
    queued: bool
    age_s: float
    pressed_at: datetime
    button_number: int | None = None  # a Flic Duo's: 0 big, 1 small; -1 counts: push-twists
    position: int | None = None  # a Flic Twist's `selector_changed`: where it is now (0-11)
    item: int | None = None  # a Flic Twist's: the item's place in its notification (for ids)


@dataclass(frozen=True, slots=True)
class QueueDrained:
    """Every press the button queued while disconnected has been delivered."""


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery reading."""

    millivolt: int


@dataclass(frozen=True, slots=True)
class NameChanged:
    """The name stored in the button."""

    name: str


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """The button's firmware version."""

    version: int


SessionEvent = Paired | Verified | Press | QueueDrained | Battery | NameChanged | FirmwareVersion
