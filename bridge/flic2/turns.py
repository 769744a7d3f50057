"""Turning a dial into clicks: one per twelfth of a turn (a detent), for the Duo and the Twist."""

from __future__ import annotations

UNITS_PER_DETENT = 4096  # 12 per turn (pyflic-ble's rotate tracker); positive is clockwise


def detents(remainder: int, delta: int) -> tuple[int, int]:
    """Whole detents in `remainder + delta` (toward zero, so a back-and-forth cancels), and
    what is left over for the next turn."""
    total = remainder + delta
    whole = int(total / UNITS_PER_DETENT)
    return whole, total - whole * UNITS_PER_DETENT
