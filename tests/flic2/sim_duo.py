"""The Duo's side of its event stream: writes the bit-packed opcode-32 payload, from the spec
as pyflic-ble reads it (own code: bits least significant first)."""

from __future__ import annotations

from dataclasses import dataclass

_COUNTER_BITS = (2, 4, 8, 32)
_TIMESTAMP_BITS = (8, 10, 13, 16, 24, 32, 40, 48)


@dataclass(frozen=True)
class DuoEvent:
    """One event as the Duo sends it."""

    button: int
    kind: int  # 0..7
    timestamp_delta: int = 100
    count_skip: int = 0  # for a button's first event in a packet: events skipped before it
    flag: bool = False  # kind 4: second press held; kind 7: next up ends a double
    gesture: int | None = None  # None: no gesture data; 0: unrecognised; 1..4 left/right/up/down
    queue_marker: str = "none"  # "queued", "last", "discarded" while the queue is not done
    accel: tuple[int, int, int] = (0, 0, 64)


class _Writer:
    def __init__(self) -> None:
        self.value = 0
        self.size = 0

    def put(self, value: int, width: int) -> None:
        assert 0 <= value < (1 << width), (value, width)
        self.value |= value << self.size
        self.size += width

    def data(self) -> bytes:
        return self.value.to_bytes((self.size + 7) // 8, "little")


def encode_duo_events(events: list[DuoEvent]) -> bytes:
    """The payload after the opcode for these events."""
    out = _Writer()
    counted = [False, False]
    for event in events:
        out.put(event.button, 1)
        if not counted[event.button]:
            counted[event.button] = True
            skip = event.count_skip
            if skip == 0:
                out.put(0, 1)
            elif skip == 1:
                out.put(1, 1)
                out.put(0, 1)
            else:
                index = next(i for i, w in enumerate(_COUNTER_BITS) if skip < (1 << w))
                out.put(1, 1)
                out.put(1, 1)
                out.put(index, 2)
                out.put(skip, _COUNTER_BITS[index])
        width = next(i for i, w in enumerate(_TIMESTAMP_BITS) if event.timestamp_delta < (1 << w))
        out.put(width, 3)
        out.put(event.timestamp_delta, _TIMESTAMP_BITS[width])
        if event.queue_marker == "queued":
            out.put(0, 1)
        elif event.queue_marker in ("last", "discarded"):
            out.put(1, 1)
            out.put(0 if event.queue_marker == "last" else 1, 1)
        out.put(event.kind, 3)
        if event.kind in (4, 7):
            out.put(int(event.flag), 1)
        if event.kind <= 4 or event.kind == 6:
            if event.gesture is None:
                out.put(0, 1)
            else:
                out.put(1, 1)
                out.put(int(event.gesture > 0), 1)
                if event.gesture:
                    out.put(event.gesture - 1, 2)
        for axis in event.accel:
            out.put(axis & 0xFF, 8)
    return out.data()
