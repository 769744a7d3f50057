"""A simulated Flic 2 button: the button's side of the published protocol, written from the spec.

Packets are built here with `struct` directly (not with bridge.flic2.packets) so a layout bug in
the bridge cannot hide behind the same bug in the simulator. Only Chaskey is shared, and that is
pinned by the vendor's vectors. The factory signing key is injected: production code accepts
only the vendor key, so tests pass this simulator's public key as the session's verify key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from bridge.flic2.chaskey import chaskey16, chaskey_mac
from tests.flic2.sim_parts import _after, _Event, _hmac, _Link, _raw

TICKS_PER_S = 32768

# Item codes sent by the button (ButtonEventNotificationItem.event_encoded, as the vendor's C
# module decodes them): below 8 the low 2 bits are 1 down, 2 single-click timeout, 3 hold, and 7 is
# a hold whose release will end a double click; from 8 up bit 2 = was held, bit 1 = click type
# known, bit 0 = double. A hold is released as 14 (held, known, single), never 12.
DOWN, SINGLE_TIMEOUT, HOLD, HOLD_THEN_DOUBLE = 1, 2, 3, 7
UP_PENDING, UP_SINGLE, UP_DOUBLE, UP_AFTER_HOLD, UP_DOUBLE_HELD = 8, 10, 11, 14, 15

# Press scripts: (event-count phase, code, seconds since the previous item). Phases follow the
# counter mod 4: 1 down, 2 hold, 3 up, 0 single-click timeout.
PRESSES: dict[str, list[tuple[int, int, float]]] = {
    "single": [(1, DOWN, 0.1), (3, UP_PENDING, 0.1), (0, SINGLE_TIMEOUT, 0.5)],
    # Released after the double-click window but before a hold: single known at once.
    "slow_single": [(1, DOWN, 0.1), (3, UP_SINGLE, 0.7)],
    "double": [(1, DOWN, 0.1), (3, UP_PENDING, 0.1), (1, DOWN, 0.1), (3, UP_DOUBLE, 0.1)],
    # The second press of a double click held down: 7 then 15.
    "double_hold": [
        (1, DOWN, 0.1),
        (3, UP_PENDING, 0.1),
        (1, DOWN, 0.1),
        (2, HOLD_THEN_DOUBLE, 1.0),
        (3, UP_DOUBLE_HELD, 0.3),
    ],
    "hold": [(1, DOWN, 0.1), (2, HOLD, 1.0), (3, UP_AFTER_HOLD, 0.3)],
}

# Opcodes this simulator answers beyond the handshake (the vendor's enum positions).
SET_NAME_REQUEST, SET_NAME_RESPONSE = 10, 17
SET_ADV_PARAMETERS_REQUEST, SET_ADV_PARAMETERS_RESPONSE = 27, 25
TEST_IF_REALLY_UNPAIRED = 4  # both directions
PING_REQUEST, PING_RESPONSE = 15, 14


class SimButton:
    """The button. `send` is called with every frame the button notifies."""

    def __init__(
        self,
        address: str,
        factory_key: Ed25519PrivateKey,
        *,
        name: str = "sim",
        duo: bool = False,
    ) -> None:
        self.address = address
        self.address_le = bytes.fromhex(address.replace(":", ""))[::-1]
        self._ecdh = X25519PrivateKey.generate()
        message = self.address_le + b"\x00" + _raw(self._ecdh.public_key())
        signature = bytearray(factory_key.sign(message))
        self.signature_variant = signature[32] & 3
        # The low 2 bits of byte 32 are not authentic: send different ones so the app must search.
        signature[32] = (signature[32] & 0xFC) | ((self.signature_variant + 1) & 3)
        self._signature = bytes(signature)
        self.name = name
        # A Duo to a base-protocol app: says it is one (bit 2, "D..."), sends its big button's.
        self.duo = duo
        self.serial = "DSIM-00001" if duo else "SIM-000001"
        self.public_mode = False
        self.pairings: dict[int, bytes] = {}
        self.boot_id = 0x5EED0001
        self.event_count = 0
        self.clock = 1_000_000  # button ticks, 32768 Hz
        self.unacked: list[_Event] = []
        self.battery_level = 850  # about 2.99 V
        self.firmware_version = 11
        self.send: Callable[[bytes], None] = lambda frame: None
        self.link: _Link | None = None
        self.next_conn_id = 1
        # Fault injection and observation for tests.
        self.corrupt_next_mac = False
        self.sent: list[bytes] = []  # every frame notified, for replay tests
        self.received_opcodes: list[int] = []
        self.acks: list[int] = []
        self.mac_failures = 0
        self.resend_all_unacked = False  # a sloppy firmware: ignore the app's event count on init
        self.credentials_flags = 0b01  # FullVerifyResponse2: bit 0 match, bit 1 cares about them
        self.forge_unpaired = False  # an attacker answers quick verify with "pairing unknown"
        self.flags_seen: list[int] = []  # the flags byte of each full and quick verify request
        self.adv_parameters: list[bytes] = []  # every SetAdvParametersRequest body
        self.pings_answered = 0
        self.init_requests: list[tuple[int, int]] = []  # (event count, boot id) of each init
        self.unpaired_tests: list[str] = []  # "NE" or "EX": what each TestIfReallyUnpaired said

    # --- the physical button -------------------------------------------------------------

    def hold_for_pairing(self) -> None:
        """The user holds the button for 7 seconds: public (pairable) mode."""
        self.public_mode = True

    def tick(self, seconds: float) -> None:
        """Let time pass on the button's clock."""
        self.clock += int(seconds * TICKS_PER_S)

    def _next(self, phase: int) -> int:
        count = self.event_count + 1
        while count % 4 != phase:
            count += 1
        self.event_count = count
        return count

    def _record(self, steps: list[tuple[int, int, float]]) -> None:
        events = []
        for phase, code, after_s in steps:
            self.tick(after_s)
            events.append(_Event(self._next(phase), self.clock, code))
        self.unacked.extend(events)
        if self.link is not None and self.link.ready:
            self._notify_events(events, queued=False)

    def press(self, kind: str, *, small: bool = False) -> None:
        """One press, as the button reports it: a key of PRESSES ("single", "hold", ...).

        `small` is the Duo's small button: a base-protocol app never hears of it.
        """
        if kind not in PRESSES:
            raise ValueError(kind)
        if small:
            assert self.duo, "only a Flic Duo has a small button"
            return
        self._record(PRESSES[kind])

    def reboot(self) -> None:
        """A battery change: new boot id, queued events lost, the event counter back at 0."""
        self.boot_id += 1
        self.unacked.clear()
        self.event_count = 0

    # --- the radio ---------------------------------------------------------------------

    def connect(self, mtu: int = 23) -> None:
        """A BLE connection came up."""
        self.link = _Link(conn_id=0, mtu=mtu)

    def disconnect(self) -> None:
        """The BLE connection went down."""
        self.link = None

    def _emit_packet(self, packet: bytes, *, newly_assigned: bool = False) -> None:
        link = self.link
        assert link is not None
        chunk = link.mtu - 4
        for start in range(0, len(packet), chunk):
            header = link.conn_id | (0x20 if newly_assigned else 0)
            if start + chunk < len(packet):
                header |= 0x80
            frame = bytes([header]) + packet[start : start + chunk]
            self.sent.append(frame)
            self.send(frame)

    def _emit_signed(self, packet: bytes, *, newly_assigned: bool = False) -> None:
        link = self.link
        assert link is not None
        assert link.key is not None
        tag = chaskey_mac(link.key, 0, link.tx, packet)
        link.tx += 1
        if self.corrupt_next_mac:
            self.corrupt_next_mac = False
            tag = bytes([tag[0] ^ 0x01]) + tag[1:]
        self._emit_packet(packet + tag, newly_assigned=newly_assigned)

    def receive(self, frame: bytes) -> None:
        """A write from the app."""
        link = self.link
        if link is None or len(frame) < 2:
            return
        link.parts += frame[1:]
        if frame[0] & 0x80:
            return
        packet, link.parts = bytes(link.parts), bytearray()
        self.received_opcodes.append(packet[0])
        if not link.ready and link.key is None:
            self._unsigned(link, packet)
            return
        tag = chaskey_mac(link.key or b"", 1, link.rx, packet[:-5])
        link.rx += 1
        if tag != packet[-5:]:
            self.mac_failures += 1
            self._emit_packet(bytes([9, 1]))  # DisconnectedVerifiedLinkInd, invalid signature
            self.link = None
            return
        self._signed(link, packet[:-5])

    def _unsigned(self, link: _Link, packet: bytes) -> None:
        opcode = packet[0]
        if opcode == 0:  # FullVerifyRequest1
            (tmp_id,) = struct.unpack_from("<I", packet, 1)
            link.conn_id = self.next_conn_id
            self.next_conn_id = self.next_conn_id % 31 + 1
            self._emit_packet(self._full_verify_1(link, tmp_id), newly_assigned=True)
        elif opcode == 2:  # FullVerifyRequest2WithoutAppToken
            self._full_verify_2(link, packet)
        elif opcode == TEST_IF_REALLY_UNPAIRED:
            self._test_if_really_unpaired(link, packet)
        elif opcode == 5:  # QuickVerifyRequest
            self._quick_verify(link, packet)

    def _full_verify_1(self, link: _Link, tmp_id: int) -> bytes:
        """FullVerifyResponse1 (opcode 0 for both products): our signed key and a new random."""
        link.button_random = os.urandom(8)
        return (
            struct.pack("<BI", 0, tmp_id)
            + self._signature
            + self.address_le
            + b"\x00"
            + _raw(self._ecdh.public_key())
            + link.button_random
            + b"\x00"
        )

    def _secret(self, link: _Link, app_public: bytes, client_random: bytes, flags: int) -> bytes:
        shared = self._ecdh.exchange(X25519PublicKey.from_public_bytes(app_public))
        return hashlib.sha256(
            shared
            + bytes([self.signature_variant])
            + link.button_random
            + client_random
            + bytes([flags])
        ).digest()

    def _pair(self, link: _Link, packet: bytes, fail_opcode: int) -> bytes | None:
        """Check a FullVerifyRequest2 and store the pairing: the secret, or None once refused."""
        app_public, client_random = packet[1:33], packet[33:41]
        flags, verifier = packet[41], packet[42:58]
        self.flags_seen.append(flags)
        # The flags byte the app sent (0x80 "supports Duo" from the vendor's apps) is part of
        # the secret: a button mixes in what it received, not a constant.
        secret = self._secret(link, app_public, client_random, flags)
        if not self.public_mode:
            self._emit_packet(bytes([fail_opcode, 1]))  # FullVerifyFailResponse: not public
            return None
        if not hmac.compare_digest(_hmac(secret, b"AT")[:16], verifier):
            self._emit_packet(bytes([fail_opcode, 0]))  # invalid verifier
            return None
        pk = _hmac(secret, b"PK")
        if self.credentials_flags & 1 or not self.credentials_flags & 2:
            self.pairings[struct.unpack("<I", pk[:4])[0]] = pk[4:20]
            self.public_mode = False
        return secret

    def _full_verify_2(self, link: _Link, packet: bytes) -> None:
        secret = self._pair(link, packet, fail_opcode=3)
        if secret is None:
            return
        link.key = _hmac(secret, b"SK")[:16]
        link.ready = True
        name = self.name.encode()
        body = (
            bytes([1, self.credentials_flags | (0b100 if self.duo else 0)])
            + bytes(range(16))
            + bytes([len(name)])
            + name.ljust(23, b"\x00")
            + struct.pack("<IH", self.firmware_version, self.battery_level)
            + self.serial.encode().ljust(11, b"\x00")
        )
        self._emit_signed(body)

    def _test_if_really_unpaired(self, link: _Link, packet: bytes) -> None:
        """The app doubts a "pairing unknown": answer with proof either way (flags byte 0)."""
        app_public, client_random = packet[1:33], packet[33:41]
        (pairing_id,) = struct.unpack_from("<I", packet, 41)
        token = packet[45:61]
        secret = self._secret(link, app_public, client_random, 0)
        key = self.pairings.get(pairing_id)
        pairing = struct.pack("<I", pairing_id) + (key or b"")
        if key is not None and hmac.compare_digest(_hmac(secret, b"PT" + pairing)[:16], token):
            self.unpaired_tests.append("EX")
            result = _hmac(secret, b"EX" + pairing[:16])[:16]
        else:
            self.unpaired_tests.append("NE")
            result = _hmac(secret, b"NE" + token)[:16]
        self._emit_packet(bytes([TEST_IF_REALLY_UNPAIRED]) + result)

    def _quick_request(self, packet: bytes) -> tuple[bytes, int, int, bytes | None]:
        """A QuickVerifyRequest: client random, flags, tmp id, and the pairing key if known."""
        client_random, flags = packet[1:8], packet[8]
        self.flags_seen.append(flags)
        tmp_id, pairing_id = struct.unpack_from("<II", packet, 9)
        return client_random, flags, tmp_id, self.pairings.get(pairing_id)

    def _quick_verify(self, link: _Link, packet: bytes) -> None:
        client_random, flags, tmp_id, pairing_key = self._quick_request(packet)
        if pairing_key is None or self.forge_unpaired:
            self._emit_packet(struct.pack("<BI", 6, tmp_id))  # QuickVerifyNegativeResponse
            return
        link.conn_id = self.next_conn_id
        self.next_conn_id = self.next_conn_id % 31 + 1
        button_random = os.urandom(8)
        # The received flags byte (0x40 "supports Duo" from the vendor's apps) is mixed in.
        link.key = chaskey16(pairing_key, client_random + bytes([flags]) + button_random)
        link.ready = True
        # A Duo says so (bit 6) to an app that said it supports the Duo.
        duo_flag = 0x40 if self.duo and flags & 0x40 else 0
        reply = bytes([8]) + button_random + struct.pack("<IB", tmp_id, duo_flag)
        self._emit_signed(reply, newly_assigned=True)

    def _signed(self, link: _Link, body: bytes) -> None:
        opcode = body[0]
        if opcode == 23:  # InitButtonEventsLightRequest
            app_count, app_boot = struct.unpack_from("<II", body, 1)
            self.init_requests.append((app_count, app_boot))
            max_queued = (int.from_bytes(body[9:14], "little") >> 9) & 0x1F
            rebooted = app_boot != self.boot_id
            fresh = rebooted or self.resend_all_unacked
            pending = [e for e in self.unacked if fresh or _after(e.count, app_count)]
            if max_queued == 0:
                pending = []
            stamp = (1 if pending else 0) | (self.clock << 1)
            head = bytes([10 if rebooted else 11]) + stamp.to_bytes(6, "little")
            tail = struct.pack("<I", self.event_count)
            self._emit_signed(head + tail + (struct.pack("<I", self.boot_id) if rebooted else b""))
            if pending:
                self._notify_events(pending, queued=True)
        elif opcode == 16:  # AckButtonEventsInd
            (count,) = struct.unpack_from("<I", body, 1)
            self.acks.append(count)
            self.unacked = [e for e in self.unacked if _after(e.count, count)]
        elif opcode == 20:  # GetBatteryLevelRequest
            self._emit_signed(struct.pack("<BH", 20, self.battery_level))
        elif opcode == 11:  # GetNameRequest
            self._emit_signed(bytes([16]) + (0).to_bytes(6, "little") + self.name.encode())
        elif opcode == 8:  # GetFirmwareVersionRequest
            self._emit_signed(struct.pack("<BI", 5, self.firmware_version))
        elif opcode == SET_NAME_REQUEST:  # 48-bit UTC ms << 1 | force, then the name
            self.name = body[7:30].decode("utf-8", errors="replace")
            stamp = int.from_bytes(body[1:7], "little") >> 1
            self._emit_signed(
                bytes([SET_NAME_RESPONSE]) + stamp.to_bytes(6, "little") + self.name.encode()
            )
        elif opcode == SET_ADV_PARAMETERS_REQUEST:
            self.adv_parameters.append(body[1:])
            self._emit_signed(bytes([SET_ADV_PARAMETERS_RESPONSE]))
        elif opcode == PING_RESPONSE:
            self.pings_answered += 1

    def ping(self) -> None:
        """The button checks the link is alive."""
        if self.link is not None and self.link.ready:
            self._emit_signed(bytes([PING_REQUEST]))

    def _notify_events(self, events: list[_Event], *, queued: bool) -> None:
        # 16 items fill a 128-byte packet with its MAC; the last item's count heads it.
        for start in range(0, len(events), 16):
            batch = events[start : start + 16]
            body = bytearray(struct.pack("<BI", 12, batch[-1].count))
            for index, event in enumerate(batch):
                flags = event.code
                if queued:
                    flags |= 0x10
                    if start + index == len(events) - 1:
                        flags |= 0x20
                body += event.timestamp.to_bytes(6, "little") + bytes([flags])
            self._emit_signed(bytes(body))
