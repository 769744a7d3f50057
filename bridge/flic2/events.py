"""Button event decoding: event counts of each item, click types, queued age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.flic2.packets import ButtonEventNotification, EventItem
from bridge.flic2.session_events import Press
from bridge.models import ClickType

TICKS_PER_S = 32768
_U32 = 0xFFFFFFFF

# Item codes: bit 3 set = button up (bit 2 was held, bit 1 click type known, bit 0 double);
# otherwise the low 2 bits: 1 down, 2 single-click timeout, 3 hold (7: next up is a double).
_UP = 0
_DOWN = 1
_SINGLE_TIMEOUT = 2
_HOLD = 3


def _kind(code: int) -> int:
    return _UP if code >> 3 else code & 3


@dataclass(frozen=True, slots=True)
class DecodedItem:
    """One notification item: its event count, the click types it completes, queued age."""

    event_count: int
    click_types: tuple[ClickType, ...]
    queued: bool
    queued_last: bool
    age_s: float
    ack_worthy: bool  # ends a click (single/double known): the app acknowledges it


def item_event_counts(notification: ButtonEventNotification) -> list[int]:
    """Each item's event count, walking back from the press counter (n mod 4: 1 down, 2 hold,
    3 up, 0 single-click timeout; holds and timeouts may be absent from the sequence)."""
    items = notification.items
    counts = [0] * len(items)
    count = notification.press_counter
    counts[-1] = count
    for i in range(len(items) - 2, -1, -1):
        phase = count % 4
        kind = _kind(items[i].code)
        if phase in (0, 2):
            count -= 1
        elif phase == 1:
            count -= 1 if kind == _SINGLE_TIMEOUT else 2
        else:
            count -= 1 if kind == _HOLD else 2
        count &= _U32
        counts[i] = count
    return counts


def _click_types(item: EventItem) -> tuple[tuple[ClickType, ...], bool]:
    """Click types of an item (single/double/hold exclude each other) and if it is acked."""
    code = item.code
    kind = _kind(code)
    if kind == _UP:
        is_up_code = bool(code >> 3)
        was_hold = is_up_code and bool(code & 4)
        known = is_up_code and bool(code & 2)
        double = known and bool(code & 1)
        single = known and not double
        types = [ClickType.UP]
        if not was_hold:
            types.append(ClickType.CLICK)
            if single:
                types.append(ClickType.SINGLE)
        if double:
            types.append(ClickType.DOUBLE)
        return tuple(types), single or double
    if kind == _DOWN:
        return (ClickType.DOWN,), False
    if kind == _SINGLE_TIMEOUT:
        return (ClickType.SINGLE,), True
    # A hold that turns out to be the second press of a double click is reported as the double.
    return (() if code == 7 else (ClickType.HOLD,)), False


def decode_notification(
    notification: ButtonEventNotification, init_timestamp: int
) -> list[DecodedItem]:
    """Decode every item; a queued item's age is measured back from the init response's clock."""
    decoded = []
    for item, count in zip(notification.items, item_event_counts(notification), strict=True):
        types, ack = _click_types(item)
        age_s = max(0, init_timestamp - item.timestamp) / TICKS_PER_S if item.was_queued else 0.0
        decoded.append(
            DecodedItem(
                event_count=count,
                click_types=types,
                queued=item.was_queued,
                queued_last=item.was_queued_last,
                age_s=age_s,
                ack_worthy=ack,
            )
        )
    return decoded


def is_newer(count: int, than: int) -> bool:
    """Whether event count `count` comes after `than`, modulo 2^32."""
    return count != than and ((count - than) & _U32) < 0x80000000


def new_presses(
    items: list[DecodedItem], delivered: int | None, init_at: datetime, now: datetime
) -> tuple[list[Press], int | None]:
    """The presses of items not delivered before (a replay is skipped), and the new count."""
    presses: list[Press] = []
    for item in items:
        if delivered is not None and not is_newer(item.event_count, delivered):
            continue
        pressed_at = init_at - timedelta(seconds=item.age_s) if item.queued else now
        presses.extend(
            Press(kind, item.event_count, item.queued, item.age_s, pressed_at)
            for kind in item.click_types
        )
        delivered = item.event_count
    return presses, delivered
