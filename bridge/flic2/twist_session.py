"""The app side of one Flic Twist connection, sans I/O: packets in, packets and events out.

The same surface as Flic2Session (start, take_writes, receive, request_battery, pairing), so
the BLE source runs either. Pairing (full verify) ends the connection once the Twist has
accepted us, as the vendor's pyflic-ble does; events need a quick verify on the next one.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from datetime import datetime, timedelta

from bridge.flic2 import crypto, packets, twist
from bridge.flic2.chaskey import ChaskeyKeys
from bridge.flic2.errors import GenuineCheckError, PairingUnknownError
from bridge.flic2.events import TICKS_PER_S, is_newer
from bridge.flic2.frames import MIN_ATT_MTU
from bridge.flic2.handshake import State
from bridge.flic2.packets import MAC_LEN
from bridge.flic2.pairing import Pairing
from bridge.flic2.session_events import (
    Battery,
    NameChanged,
    Paired,
    Press,
    QueueDrained,
    SessionEvent,
    Verified,
)
from bridge.flic2.twist import FromTwist, ToTwist
from bridge.flic2.verifying import VerifyingChannel
from bridge.models import ClickType


class TwistSession(VerifyingChannel):
    """One connection to a Twist: full verify without a pairing, quick verify with one."""

    product = "Flic Twist"

    def __init__(
        self,
        address: str,
        pairing: Pairing | None = None,
        *,
        verify_key: bytes = twist.VENDOR_PUBLIC_KEY,
        random: Callable[[int], bytes] = os.urandom,
        att_mtu: int = MIN_ATT_MTU,
    ) -> None:
        super().__init__(address, pairing, verify_key, random, att_mtu)
        self._turned = 0  # units toward the next detent
        self._turned_in = 0  # the mode those units were turned in

    def _send_plain(self, packet: bytes) -> None:
        self._writes.append(packet)  # no frame header, one packet per write

    def start(self) -> None:
        drawn = self._random(11)
        self._tmp_id = struct.unpack("<I", drawn[7:])[0]
        if self._pairing is None:
            self._send_plain(packets.full_verify_request_1(self._tmp_id))
            self.state = State.WAIT_FULL_VERIFY_1
            return
        self._client_random = drawn[:7]
        request = twist.quick_verify_request(
            self._client_random, self._tmp_id, self._pairing.pairing_id
        )
        self._send_plain(request)
        self.state = State.WAIT_QUICK_VERIFY

    def request_battery(self) -> None:
        self._request(bytes([ToTwist.GET_BATTERY_LEVEL_REQUEST]))

    def receive(self, frame: bytes, now: datetime) -> list[SessionEvent]:
        """Handle one notification; raises a Flic2Error when the session must end."""
        if not frame:
            return []
        opcode = frame[0]
        if self.state is State.WAIT_FULL_VERIFY_1:
            if opcode == FromTwist.FULL_VERIFY_RESPONSE_1:
                self._on_full_verify_1(packets.parse_full_verify_response_1(frame))
            return []
        if self.state is State.WAIT_FULL_VERIFY_2:
            return self._on_full_verify_2(frame)
        if self.state is State.WAIT_QUICK_VERIFY:
            return self._on_quick_verify(frame)
        if self.state is State.READY and len(frame) > MAC_LEN + 1:
            # Not checked, as the vendor's SDK (pyflic-ble strips the tag the same way).
            return self._on_signed(frame[:-MAC_LEN], now)
        return []

    def _on_full_verify_1(self, rsp: packets.FullVerifyResponse1) -> None:
        if rsp.tmp_id != self._tmp_id:
            return
        if rsp.address != self._wire_address:
            raise GenuineCheckError(f"{self.address} answered with another Bluetooth address")
        agreed = self._agree(rsp, "bad signature")
        secret = crypto.full_verify_secret(
            agreed.shared, agreed.variant, rsp.button_random, self._client_random
        )
        keys = crypto.derive_full_verify_keys(secret)
        public = agreed.public_key
        self._send_plain(packets.full_verify_request_2(public, self._client_random, keys.verifier))
        self._fv_pairing = (keys.pairing_id, keys.pairing_key)
        self.state = State.WAIT_FULL_VERIFY_2

    def _on_full_verify_2(self, packet: bytes) -> list[SessionEvent]:
        opcode = packet[0]
        if opcode == FromTwist.FULL_VERIFY_FAIL_RESPONSE and len(packet) >= 2:
            self._refused(packet)
        if opcode != FromTwist.FULL_VERIFY_RESPONSE_2 or len(packet) < 75:
            return []
        rsp = packets.parse_full_verify_response_2(packet)
        pairing = self._new_pairing(rsp, twist=True)
        self.state = State.IDLE  # paired: the caller disconnects, events come on quick verify
        return [Paired(pairing, rsp.battery_level)]

    def _on_quick_verify(self, packet: bytes) -> list[SessionEvent]:
        assert self._pairing is not None
        if packet[0] == FromTwist.QUICK_VERIFY_NEGATIVE_RESPONSE:
            raise PairingUnknownError(
                f"{self.address} no longer knows this pairing: pair it again "
                "(flic-bridge pair --ble)"
            )
        if packet[0] != FromTwist.QUICK_VERIFY_RESPONSE or len(packet) < 13:
            return []
        button_random = packet[1:9]
        (tmp_id,) = struct.unpack_from("<I", packet, 9)
        if tmp_id != self._tmp_id:
            return []
        key = crypto.quick_verify_session_key(
            self._pairing.pairing_key, self._client_random, button_random
        )
        self._keys = ChaskeyKeys.from_key(key)
        self.state = State.READY
        self._waiting_init = True
        pairing = self._pairing
        self._send_signed(twist.init_button_events_request(pairing.event_count, pairing.boot_id))
        return [Verified()]

    def _after_initial_events(self) -> None:
        for opcode in (
            ToTwist.GET_BATTERY_LEVEL_REQUEST,
            ToTwist.GET_NAME_REQUEST,
            ToTwist.GET_FIRMWARE_VERSION_REQUEST,
        ):
            self._request(bytes([opcode]))

    def _on_signed(self, body: bytes, now: datetime) -> list[SessionEvent]:
        opcode = body[0]
        if opcode == FromTwist.INIT_BUTTON_EVENTS_RESPONSE and self._waiting_init:
            return self._on_init(twist.parse_init_response(body), now)
        if opcode == FromTwist.BUTTON_EVENT_NOTIFICATION:
            return self._on_button_events(twist.parse_button_events(body), now)
        if opcode == FromTwist.TWIST_EVENT_NOTIFICATION:
            rotation = twist.parse_rotation(body)
            if rotation.mode != self._turned_in:  # a part-turn does not carry over to another
                self._turned, self._turned_in = 0, rotation.mode
            kinds, self._turned = twist.turn_clicks(rotation, self._turned)
            return [Press(kind, -1, False, 0.0, now) for kind in kinds]
        if opcode == FromTwist.GET_BATTERY_LEVEL_RESPONSE:
            self._answered()
            return [Battery(packets.parse_u16(body, "Twist battery level"))]
        if opcode == FromTwist.GET_FIRMWARE_VERSION_RESPONSE:
            return self._firmware(body, "Twist firmware version")
        if opcode == FromTwist.GET_NAME_RESPONSE:
            self._answered()
            name = body[7 : 7 + packets.NAME_MAX_BYTES].decode("utf-8", errors="replace")
            self._update_pairing(name=name)
            return [NameChanged(name)]
        if opcode == FromTwist.DISCONNECTED_VERIFIED_LINK_IND:
            raise self._link_closed(body)
        return []

    def _on_init(self, rsp: twist.InitResponse, now: datetime) -> list[SessionEvent]:
        assert self._pairing is not None
        self._waiting_init = False
        self._init_timestamp, self._init_at = rsp.timestamp, now
        if rsp.boot_id != self._pairing.boot_id:
            self._update_pairing(boot_id=rsp.boot_id)
            self._delivered = None  # a new boot counts afresh: take whatever comes
        if rsp.has_queued_events:
            return []
        self._delivered = rsp.event_count
        self._update_pairing(event_count=rsp.event_count)
        self._after_initial_events()
        return [QueueDrained()]

    def _on_button_events(self, events: twist.ButtonEvents, now: datetime) -> list[SessionEvent]:
        assert self._pairing is not None
        out: list[SessionEvent] = []
        if self._delivered is None or is_newer(events.event_count, self._delivered):
            out.extend(self._presses(events, now))
            self._delivered = events.event_count
            self._update_pairing(event_count=events.event_count)
        self._send_signed(twist.ack_button_events_ind(self._delivered))
        if any(item.queued_last for item in events.items):
            self._after_initial_events()
            out.append(QueueDrained())
        return out

    def _presses(self, events: twist.ButtonEvents, now: datetime) -> list[Press]:
        assert self._pairing is not None
        presses: list[Press] = []
        init_at = self._init_at or now
        for index, item in enumerate(events.items):
            age_s = 0.0
            if item.queued:
                age_s = max(0, self._init_timestamp - item.timestamp) / TICKS_PER_S
            at = init_at - timedelta(seconds=age_s) if item.queued else now
            count, selector = events.event_count, self._pairing.selector
            if item.mode < twist.SLOTS and item.mode != selector:
                self._update_pairing(selector=item.mode)
                kind = ClickType.SELECTOR_CHANGED
                presses.append(Press(kind, count, item.queued, age_s, at, None, item.mode, index))
            presses.extend(
                Press(kind, count, item.queued, age_s, at, item=index) for kind in item.click_types
            )
        return presses
