"""The Duo's side of its event stream: writes the bit-packed opcode-32 payload, from the spec
as pyflic-ble reads it (own code: bits least significant first)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from tests.flic2.sim_button import TICKS_PER_S, SimButton
from tests.flic2.sim_parts import _after

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


# Duo press scripts: (type, seconds since the previous event, gesture). Types as the Duo sends
# them: 5 down, 0 up, 1 up-single, 2 up-after-hold, 3 up-double, 6 single timeout, 7 hold.
DUO_PRESSES: dict[str, list[tuple[int, float, int | None]]] = {
    "single": [(5, 0.1, None), (0, 0.1, None), (6, 0.5, None)],
    "double": [(5, 0.1, None), (0, 0.1, None), (5, 0.1, None), (3, 0.1, None)],
    "hold": [(5, 0.1, None), (7, 1.0, None), (2, 0.3, None)],
    "swipe_left": [(5, 0.1, None), (1, 0.2, 1)],
    "swipe_right": [(5, 0.1, None), (1, 0.2, 2)],
    "swipe_up": [(5, 0.1, None), (1, 0.2, 3)],
    "swipe_down": [(5, 0.1, None), (1, 0.2, 4)],
}


@dataclass
class _DuoRecord:
    button: int
    count: int
    kind: int
    ms: int
    gesture: int | None


def _duo_count(previous: int, kind: int) -> int:
    """The count the Duo gives its next event: an up or down always lands on an odd count."""
    count = previous + 1
    return count + 1 if kind <= 5 and count % 2 == 0 else count


class SimDuo(SimButton):
    """A Flic Duo: the Flic 2 protocol plus, for an app that says it supports the Duo, the
    per-button init (35 -> 30/31), bit-packed events (32), their acknowledgement (36), and
    push-twist (37 -> 33), as the vendor's libraries read and write them."""

    def __init__(self, address: str, factory_key: Any, **options: Any) -> None:
        super().__init__(address, factory_key, duo=True, **options)
        self.duo_counts = [0, 0]
        self.duo_unacked: list[_DuoRecord] = []
        self.duo_acks: list[tuple[int, int]] = []
        self.push_twist_enabled = 0
        self.duo_mode = False  # this link's app sent InitButtonEventsDuoRequest
        self._stream_counts = [0, 0]
        self._stream_ms = 0
        self._stream_queue_done = True
        # One spare zero byte after the events: pyflic-ble's reader stops 8 bits early and would
        # drop an event ending in the last byte (pinned in test_duo_events.py); the Android
        # library's reader does not need it.
        self.pad_packets = False

    @property
    def ms(self) -> int:
        return self.clock * 1000 // TICKS_PER_S

    def disconnect(self) -> None:
        super().disconnect()
        self.duo_mode = False

    def reboot(self) -> None:
        super().reboot()
        self.duo_counts = [0, 0]
        self.duo_unacked.clear()

    def press(self, kind: str, *, small: bool = False) -> None:
        if kind not in DUO_PRESSES:
            if not small:
                super().press(kind)
            return
        button = int(small)
        records = []
        for duo_kind, after_s, gesture in DUO_PRESSES[kind]:
            self.tick(after_s)
            self.duo_counts[button] = _duo_count(self.duo_counts[button], duo_kind)
            records.append(_DuoRecord(button, self.duo_counts[button], duo_kind, self.ms, gesture))
        self.duo_unacked.extend(records)
        if self.link is not None and self.link.ready and self.duo_mode:
            self._notify_duo(records, queued=False)

    def twist(self, angle: int, *, small: bool = False) -> None:
        """Turn the Duo by `angle` units (4096 a twelfth of a turn) while holding a button."""
        if self.link is not None and self.link.ready and self.duo_mode:
            self._emit_signed(struct.pack("<BBi", 33, 2 if small else 1, angle))

    def _signed(self, link: Any, body: bytes) -> None:
        opcode = body[0]
        if opcode == 35:  # InitButtonEventsDuoLightRequest
            self.duo_mode = True
            big, small, boot = struct.unpack_from("<III", body, 1)
            self.init_requests.append((big, boot))
            max_queued = (int.from_bytes(body[13:18], "little") >> 9) & 0x1F
            rebooted = boot != self.boot_id
            app = (big, small)
            pending = [r for r in self.duo_unacked if rebooted or _after(r.count, app[r.button])]
            if max_queued == 0:
                pending = []
            counts = tuple(self.duo_counts) if rebooted or not pending else app
            self._stream_counts = list(counts)
            self._stream_ms = self.ms
            self._stream_queue_done = not pending
            stamp = (1 if pending else 0) | (self.ms << 1)
            head = bytes([30 if rebooted else 31]) + stamp.to_bytes(6, "little")
            tail = struct.pack("<II", *counts) + (
                struct.pack("<I", self.boot_id) if rebooted else b""
            )
            self._emit_signed(head + tail)
            if pending:
                self._stream_ms = min(r.ms for r in pending)
                self._notify_duo(pending, queued=True)
        elif opcode == 36:  # AckButtonEventsDuoInd
            acked = struct.unpack_from("<II", body, 1)
            self.duo_acks.append(acked)
            self.duo_unacked = [r for r in self.duo_unacked if _after(r.count, acked[r.button])]
        elif opcode == 37:  # EnablePushTwistInd
            self.push_twist_enabled = body[1]
        else:
            super()._signed(link, body)

    def _notify_duo(self, records: list[_DuoRecord], *, queued: bool) -> None:
        for start in range(0, len(records), 8):
            batch = records[start : start + 8]
            events, counted = [], [False, False]
            for index, record in enumerate(batch):
                b = record.button
                skip = 0
                if not counted[b]:
                    counted[b] = True
                    delta = record.count - self._stream_counts[b]
                    skip = (
                        delta - 1 if record.kind > 5 or (self._stream_counts[b] + delta) % 2 else 0
                    )
                    assert skip >= 0, (record, self._stream_counts)
                else:
                    assert record.count == _duo_count(self._stream_counts[b], record.kind)
                self._stream_counts[b] = record.count
                marker = "none"
                if not self._stream_queue_done:
                    last = queued and start + index == len(records) - 1
                    marker = "last" if last else "queued"
                    self._stream_queue_done = last
                events.append(
                    DuoEvent(
                        button=b,
                        kind=record.kind,
                        timestamp_delta=max(0, record.ms - self._stream_ms),
                        count_skip=skip,
                        gesture=record.gesture,
                        queue_marker=marker,
                    )
                )
                self._stream_ms = max(self._stream_ms, record.ms)
            pad = b"\x00" if self.pad_packets else b""
            self._emit_signed(bytes([32]) + encode_duo_events(events) + pad)
