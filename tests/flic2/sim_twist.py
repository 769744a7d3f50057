"""A simulated Flic Twist: the Twist's side of its protocol, as the vendor's pyflic-ble 0.2.5
reads and writes it (const.py, protocol.py, handlers/twist.py); no real Twist was checked.

Packets carry no frame header: opcode, payload, and once verified a 5-byte MAC over both (the
Twist checks ours with direction 1; it signs its own with direction 0, which the vendor's SDK
does not check). Built with `struct` here, not with bridge.flic2.twist, so a layout bug in the
bridge cannot hide behind the same bug in the simulator.

How a real Twist reports a selector move is not written down anywhere we found; pyflic-ble
reads it from the mode index of button events. So here a move is: push (down, at the old
position), turn while pushed (rotation in mode 12), release (up, at the new position).
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass
from typing import Any

from bridge.flic2.chaskey import chaskey16, chaskey_mac
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_parts import _after, _Link

UP, DOWN, SINGLE_TIMEOUT, HOLD, DOUBLE_FLAG = 0, 1, 2, 3, 8
PUSHED = 12  # the mode while the dial is turned pushed in
UNITS_PER_TURN = 49152

# Press scripts: (code, seconds since the previous event).
TWIST_PRESSES: dict[str, list[tuple[int, float]]] = {
    "single": [(DOWN, 0.1), (UP, 0.1), (SINGLE_TIMEOUT, 0.5)],
    "double": [(DOWN, 0.1), (UP, 0.1), (DOWN, 0.1), (UP | DOUBLE_FLAG, 0.1)],
    "hold": [(DOWN, 0.1), (HOLD, 1.0), (UP, 0.3)],
}


@dataclass
class _TwistEvent:
    count: int
    timestamp: int
    code: int
    mode: int


class SimTwist(SimButton):
    """A Flic Twist. `slot` is where its selector stands (0-11)."""

    twist_service = True

    def __init__(self, address: str, factory_key: Any, **options: Any) -> None:
        super().__init__(address, factory_key, **options)
        self.serial = "TSIM-00001"
        self.battery_mv = 2900
        self.slot = 0
        self.twist_unacked: list[_TwistEvent] = []
        self.mode_configs: list[bytes] = []  # the 13 configs of the last init
        self.signed_opcodes: list[int] = []

    # --- the physical Twist --------------------------------------------------------------

    def reboot(self) -> None:
        super().reboot()
        self.twist_unacked.clear()

    def _record(self, steps: list[tuple[int, float, int]]) -> None:
        events = []
        for code, after_s, mode in steps:
            self.tick(after_s)
            self.event_count += 1
            events.append(_TwistEvent(self.event_count, self.clock, code, mode))
        self.twist_unacked.extend(events)
        if self.link is not None and self.link.ready:
            self._notify_events(events, queued=False)

    def press(self, kind: str, *, small: bool = False) -> None:
        """One push: "single", "double" or "hold"."""
        assert not small, "a Twist has one button"
        self._record([(code, after, self.slot) for code, after in TWIST_PRESSES[kind]])

    def turn(self, units: int) -> None:
        """Turn the dial (not pushed) by `units`, 4096 a twelfth of a turn, clockwise positive."""
        self._rotation(self.slot, units)

    def select(self, slot: int) -> None:
        """Push, turn to `slot`, release: the selector moves there."""
        old, self.slot = self.slot, slot
        self._record([(DOWN, 0.1, old)])
        self._rotation(PUSHED, (slot - old) * 4096)
        self._record([(UP, 0.4, slot)])

    def _rotation(self, mode: int, units: int) -> None:
        if self.link is None or not self.link.ready:
            return  # a turn while nobody listens is not queued
        # min/max: how far below/above the end position the dial went during the turn.
        low, high = max(units, 0), min(units, 0)
        body = bytes([0x0A, mode & 0x0F]) + b"".join(
            v.to_bytes(3, "little", signed=True) for v in (units, low, high)
        )
        self._emit_signed(body + struct.pack("<H", 0))

    # --- the radio -------------------------------------------------------------------------

    def _emit_packet(self, packet: bytes, *, newly_assigned: bool = False) -> None:
        self.sent.append(packet)
        self.send(packet)

    def receive(self, frame: bytes) -> None:
        link = self.link
        if link is None or not frame:
            return
        self.received_opcodes.append(frame[0])
        if not link.ready:
            self._unsigned(link, frame)
            return
        assert link.key is not None
        tag = chaskey_mac(link.key, 1, link.rx, frame[:-5])
        link.rx += 1
        if not hmac.compare_digest(tag, frame[-5:]):
            self.mac_failures += 1
            self._emit_packet(bytes([0x07, 0]))  # DisconnectedVerifiedLink: invalid signature
            self.link = None
            return
        self.signed_opcodes.append(frame[0])
        self._twist_signed(frame[:-5])

    def _unsigned(self, link: _Link, packet: bytes) -> None:
        opcode = packet[0]
        if opcode == 0x00 and len(packet) >= 5:  # FullVerifyRequest1
            (tmp_id,) = struct.unpack_from("<I", packet, 1)
            self._emit_packet(self._full_verify_1(link, tmp_id))
        elif opcode == 0x02 and len(packet) >= 58:  # FullVerifyRequest2
            self._twist_full_verify_2(link, packet)
        elif opcode == 0x05 and len(packet) >= 17:  # QuickVerifyRequest
            self._twist_quick_verify(link, packet)

    def _twist_full_verify_2(self, link: _Link, packet: bytes) -> None:
        if self._pair(link, packet, fail_opcode=0x02) is None:
            return
        name = self.name.encode()
        self._emit_packet(
            bytes([0x01, self.credentials_flags])
            + bytes(range(16))
            + bytes([len(name)])
            + name.ljust(23, b"\x00")
            + struct.pack("<IH", self.firmware_version, self.battery_mv)
            + self.serial.encode().ljust(11, b"\x00")
            + b"black".ljust(16, b"\x00")
        )

    def _twist_quick_verify(self, link: _Link, packet: bytes) -> None:
        client_random, variants, tmp_id, pairing_key = self._quick_request(packet)
        if pairing_key is None:
            self._emit_packet(struct.pack("<BI", 0x05, tmp_id))  # QuickVerifyNegativeResponse
            return
        button_random = os.urandom(8)
        link.key = chaskey16(pairing_key, client_random + bytes([variants]) + button_random)
        link.ready = True
        self._emit_signed(bytes([0x06]) + button_random + struct.pack("<I", tmp_id))

    def _twist_signed(self, body: bytes) -> None:
        opcode = body[0]
        if opcode == 0x0C and len(body) >= 75:  # InitButtonEventsRequest (API version 2)
            (app_count,) = struct.unpack_from("<I", body, 1)
            self.mode_configs = [body[5 + 5 * i : 10 + 5 * i] for i in range(13)]
            (app_boot,) = struct.unpack_from("<I", body, 70)
            self.init_requests.append((app_count, app_boot))
            rebooted = app_boot != self.boot_id
            pending = [e for e in self.twist_unacked if rebooted or _after(e.count, app_count)]
            stamp = (1 if pending else 0) | (self.clock << 1)
            self._emit_signed(
                bytes([0x08])
                + stamp.to_bytes(6, "little")
                + struct.pack("<IIB", self.event_count, self.boot_id, 2)
            )
            if pending:
                self._notify_events(pending, queued=True)
        elif opcode == 0x0D:  # AckButtonEvents
            (count,) = struct.unpack_from("<I", body, 1)
            self.acks.append(count)
            self.twist_unacked = [e for e in self.twist_unacked if _after(e.count, count)]
        elif opcode == 0x11:  # GetBatteryLevelRequest: millivolts
            self._emit_signed(struct.pack("<BH", 0x10, self.battery_mv))
        elif opcode == 0x07:  # GetFirmwareVersionRequest
            self._emit_signed(struct.pack("<BI", 0x04, self.firmware_version))
        elif opcode == 0x0A:  # GetNameRequest
            self._emit_signed(bytes([0x0C]) + (0).to_bytes(6, "little") + self.name.encode())

    def _notify_events(self, events: list[Any], *, queued: bool) -> None:
        for start in range(0, len(events), 8):
            batch = events[start : start + 8]
            body = bytearray(struct.pack("<BI", 0x09, batch[-1].count))
            for index, event in enumerate(batch):
                flags = event.code | ((event.mode & 3) << 6)
                if queued:
                    flags |= 0x10
                    if start + index == len(events) - 1:
                        flags |= 0x20
                body += event.timestamp.to_bytes(6, "little")
                body += bytes([flags, (event.mode >> 2) & 3])
            self._emit_signed(bytes(body))
