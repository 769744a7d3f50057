"""Flic Duo button events (opcode 32): a bit-packed stream, two buttons, swipe gestures.

Facts from the vendor's pyflic-ble 0.2.5 (protocol.py, handlers/duo.py); no real Duo was
checked. Bits are read least significant first, multi-byte fields low byte first. Per event:
button (1 bit); the first event of each button in a packet carries its event-count delta
(1 bit, then optionally a 2-bit width index into 2/4/8/32 bits), later ones count 1; a 3-bit
index into the timestamp-delta widths 8/10/13/16/24/32/40/48 and that delta; queue markers
until the end of the queue is seen; a 3-bit type (4 adds "was held", 7 adds "next up is a
double"); on ups and single-click timeouts an optional gesture; three accelerometer bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from bridge.models import ClickType

_COUNTER_BITS = (2, 4, 8, 32)
_TIMESTAMP_BITS = (8, 10, 13, 16, 24, 32, 40, 48)
_MIN_EVENT_BITS = 39


class DuoType(enum.IntEnum):
    """The 3-bit event type."""

    UP = 0
    UP_SINGLE = 1
    UP_AFTER_HOLD = 2
    UP_DOUBLE = 3
    UP_DOUBLE_FLAGGED = 4  # a double click; the flag says its second press was held
    DOWN = 5
    SINGLE_TIMEOUT = 6
    HOLD = 7


class Swipe(enum.IntEnum):
    """Gesture directions as the button numbers them (2-bit value + 1)."""

    LEFT = 1
    RIGHT = 2
    UP = 3
    DOWN = 4


@dataclass(frozen=True, slots=True)
class DuoItem:
    """One decoded Duo event."""

    button_number: int  # 0 the big button, 1 the small one
    event_count: int
    timestamp: int
    kind: DuoType
    flag: bool  # UP_DOUBLE_FLAGGED: second press held; HOLD: the next up ends a double
    swipe: Swipe | None
    queued: bool
    queued_last: bool

    @property
    def ack_worthy(self) -> bool:
        """Ends a click the app acknowledges: every up that settles single or double (a hold's
        release counts as single) and the single-click timeout, as the vendor's Android library
        (flic2lib-android) acknowledges; pyflic-ble leaves out the held ones (2 and 4)."""
        return self.kind not in (DuoType.UP, DuoType.DOWN, DuoType.HOLD)

    @property
    def click_types(self) -> tuple[ClickType, ...]:
        """The bridge's click types; a swipe's own type is given by `swipe`, not repeated."""
        kind = self.kind
        if kind is DuoType.DOWN:
            return (ClickType.DOWN,)
        if kind is DuoType.HOLD:
            return () if self.flag else (ClickType.HOLD,)
        if kind is DuoType.SINGLE_TIMEOUT:
            return () if self.swipe else (ClickType.SINGLE,)
        held = kind is DuoType.UP_AFTER_HOLD or (kind is DuoType.UP_DOUBLE_FLAGGED and self.flag)
        types = [ClickType.UP]
        if self.swipe is None:
            if not held:
                types.append(ClickType.CLICK)
            if kind is DuoType.UP_SINGLE:
                types.append(ClickType.SINGLE)
            if kind in (DuoType.UP_DOUBLE, DuoType.UP_DOUBLE_FLAGGED):
                types.append(ClickType.DOUBLE)
        return tuple(types)


@dataclass(slots=True)
class DuoStream:
    """What carries over between notifications: counts, the clock, the end-of-queue mark."""

    event_counts: list[int] = field(default_factory=lambda: [0, 0])
    timestamp: int = 0
    queue_done: bool = False


class _Bits:
    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "little")
        self._left = len(data) * 8

    @property
    def left(self) -> int:
        return self._left

    def take(self, width: int) -> int:
        if width > self._left:
            raise EOFError
        value = self._value & ((1 << width) - 1)
        self._value >>= width
        self._left -= width
        return value


def decode_duo_events(data: bytes, stream: DuoStream) -> list[DuoItem]:
    """Decode the bytes after the opcode; `stream` advances past every whole event."""
    bits = _Bits(data)
    items: list[DuoItem] = []
    counted = [False, False]
    while bits.left >= _MIN_EVENT_BITS:
        before = (list(stream.event_counts), stream.timestamp, stream.queue_done, list(counted))
        try:
            items.append(_one(bits, stream, counted))
        except EOFError:  # padding at the end of the packet
            stream.event_counts, stream.timestamp, stream.queue_done, counted = (
                before[0],
                before[1],
                before[2],
                before[3],
            )
            break
    return items


def _one(bits: _Bits, stream: DuoStream, counted: list[bool]) -> DuoItem:
    button = bits.take(1)
    delta = 1
    if not counted[button]:
        delta = bits.take(1)
        if delta and bits.take(1):
            delta = bits.take(_COUNTER_BITS[bits.take(2)])
        delta += 1
        counted[button] = True
    stream.event_counts[button] = (stream.event_counts[button] + delta) & 0xFFFFFFFF
    stream.timestamp += bits.take(_TIMESTAMP_BITS[bits.take(3)])
    queued = queued_last = False
    if not stream.queue_done:
        if not bits.take(1):
            queued = True
        else:
            stream.queue_done = True
            if not bits.take(1):
                queued = queued_last = True
    kind = DuoType(bits.take(3))
    flag = bool(bits.take(1)) if kind in (DuoType.UP_DOUBLE_FLAGGED, DuoType.HOLD) else False
    swipe = None
    gesture_field = kind <= DuoType.UP_DOUBLE_FLAGGED or kind is DuoType.SINGLE_TIMEOUT
    # Gesture reported, then recognised (an unrecognised one carries no direction).
    if gesture_field and bits.take(1) and bits.take(1):
        swipe = Swipe(bits.take(2) + 1)
    bits.take(24)  # accelerometer x, y, z: not used
    # An up or down not preceded by a hold or timeout skips the odd count.
    if kind <= DuoType.DOWN and stream.event_counts[button] % 2 == 0:
        stream.event_counts[button] += 1
    return DuoItem(
        button_number=button,
        event_count=stream.event_counts[button],
        timestamp=stream.timestamp,
        kind=kind,
        flag=flag,
        swipe=swipe,
        queued=queued,
        queued_last=queued_last,
    )
