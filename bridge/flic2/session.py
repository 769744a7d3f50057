"""The app side of one Flic 2 connection, sans I/O: frames in, frames and events out."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from datetime import datetime

from bridge.flic2 import crypto, duo, packets
from bridge.flic2.chaskey import ChaskeyKeys
from bridge.flic2.duo_link import DuoLink
from bridge.flic2.errors import (
    GenuineCheckError,
    MacMismatchError,
    ProtocolError,
    TooManyAppsError,
)
from bridge.flic2.events import decode_notification, new_presses
from bridge.flic2.frames import MIN_ATT_MTU, FrameHeader, Reassembler
from bridge.flic2.handshake import (
    CONN_PARAMS,
    State,
    battery_millivolt,
    judge_unpaired_test,
)
from bridge.flic2.packets import MAC_LEN, FromButton, ToButton
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
from bridge.flic2.verifying import VerifyingChannel


class Flic2Session(VerifyingChannel):
    """One connection: full verify without a pairing, quick verify with one, then events.

    Call `start()`, write every frame from `take_writes()`, feed notifications to `receive()`.
    Writes produced while handling a notification (acknowledgements) are meant to be flushed
    only after the caller has stored the presses it got, so an unstored press is never acked.
    """

    credentials_hint = " (unlock it in the app that locked it, or factory-reset it)"

    def __init__(
        self,
        address: str,
        pairing: Pairing | None = None,
        *,
        verify_key: bytes = crypto.VENDOR_PUBLIC_KEY,
        random: Callable[[int], bytes] = os.urandom,
        att_mtu: int = MIN_ATT_MTU,
        supports_duo: bool = True,
    ) -> None:
        super().__init__(address, pairing, verify_key, random, att_mtu)
        self._supports_duo = supports_duo  # False: flags 0, as the vendor's C module (no Duo)
        self._qv_flags = duo.QUICK_VERIFY_SUPPORTS_DUO if supports_duo else 0
        self._reassembler = Reassembler()
        self._unpaired: crypto.UnpairedProofs | None = None
        self._duo: DuoLink | None = None  # a Flic Duo's event stream, once verified

    @property
    def dropped_frames(self) -> int:
        """Frames dropped by reassembly (too short or over 128 bytes)."""
        return self._reassembler.dropped

    def start(self) -> None:
        """Queue the first request: quick verify with a pairing, full verify without."""
        if self.state is not State.IDLE:
            raise ProtocolError("session already started")
        if self._pairing is None:
            self._tmp_id = struct.unpack("<I", self._random(4))[0]
            self._send_plain(packets.full_verify_request_1(self._tmp_id))
            self.state = State.WAIT_FULL_VERIFY_1
        else:
            drawn = self._random(11)
            self._client_random = drawn[:7]
            self._tmp_id = struct.unpack("<I", drawn[7:])[0]
            self._send_plain(
                packets.quick_verify_request(
                    self._client_random,
                    self._tmp_id,
                    self._pairing.pairing_id,
                    self._qv_flags,
                )
            )
            self.state = State.WAIT_QUICK_VERIFY

    def request_battery(self) -> None:
        """Ask for a battery reading (answered with a Battery event)."""
        self._request(packets.opcode_only(ToButton.GET_BATTERY_LEVEL_REQUEST))

    def receive(self, frame: bytes, now: datetime) -> list[SessionEvent]:
        """Handle one notification frame; raises a Flic2Error when the session must end."""
        if not frame:
            return []
        header = FrameHeader.from_byte(frame[0])
        foreign = header.conn_id not in (0, self._conn_id) and not header.newly_assigned
        if foreign or (header.newly_assigned and self._conn_id != 0):
            return []  # meant for another app connected to the same button
        done = self._reassembler.feed(frame)
        if done is None or not done.packet:
            return []
        packet, conn_id = done.packet, done.header.conn_id
        opcode = packet[0]
        if opcode == FromButton.NO_LOGICAL_CONNECTION_SLOTS_IND and self.state in (
            State.WAIT_FULL_VERIFY_1,
            State.WAIT_QUICK_VERIFY,
            State.WAIT_UNPAIRED_FULL_VERIFY_1,
        ):
            if self._tmp_id in packets.parse_u32_list(packet):
                raise TooManyAppsError(f"{self.address} has no free slot for another app")
            return []
        if self.state in (State.WAIT_FULL_VERIFY_1, State.WAIT_UNPAIRED_FULL_VERIFY_1):
            if opcode == FromButton.FULL_VERIFY_RESPONSE_1:
                self._on_full_verify_1(packets.parse_full_verify_response_1(packet), conn_id)
            return []
        if self.state is State.WAIT_QUICK_VERIFY:
            return self._on_quick_verify(packet, opcode, conn_id)
        if conn_id == 0:
            return []
        if self.state is State.WAIT_FULL_VERIFY_2:
            return self._on_full_verify_2(packet, opcode)
        if self.state is State.WAIT_UNPAIRED_TEST:
            if opcode == FromButton.TEST_IF_REALLY_UNPAIRED_RESPONSE and len(packet) >= 17:
                assert self._unpaired is not None
                judge_unpaired_test(self.address, self._unpaired, packet[1:17])
            return []
        if self.state is State.READY and len(packet) > MAC_LEN:
            return self._on_signed(self._check_mac(packet), now)
        return []

    def _on_full_verify_1(self, rsp: packets.FullVerifyResponse1, conn_id: int) -> None:
        if rsp.tmp_id != self._tmp_id:
            return
        self._conn_id = conn_id
        if rsp.address != self._wire_address or rsp.address_type != 0:
            raise GenuineCheckError(f"{self.address} answered with another Bluetooth address")
        agreed = self._agree(rsp, "bad key signature")
        public = agreed.public_key
        # Pairing, we say we support the Duo (as the vendor's apps do) and mix that flags byte
        # in; the unpaired test sends no flags, so mixes in 0.
        unpaired = self.state is State.WAIT_UNPAIRED_FULL_VERIFY_1
        flags = duo.FULL_VERIFY_SUPPORTS_DUO if self._supports_duo and not unpaired else 0
        secret = crypto.full_verify_secret(
            agreed.shared, agreed.variant, rsp.button_random, self._client_random, flags
        )
        if self.state is State.WAIT_UNPAIRED_FULL_VERIFY_1:
            assert self._pairing is not None
            proofs = crypto.unpaired_proofs(
                secret, self._pairing.pairing_id, self._pairing.pairing_key
            )
            self._unpaired = proofs
            self._send_plain(
                packets.test_if_really_unpaired_request(
                    public, self._client_random, self._pairing.pairing_id, proofs.token
                )
            )
            self.state = State.WAIT_UNPAIRED_TEST
            return
        keys = crypto.derive_full_verify_keys(secret)
        self._send_plain(
            packets.full_verify_request_2(public, self._client_random, keys.verifier, flags)
        )
        self._keys = ChaskeyKeys.from_key(keys.session_key)
        self._fv_pairing = (keys.pairing_id, keys.pairing_key)
        self.state = State.WAIT_FULL_VERIFY_2

    def _on_full_verify_2(self, packet: bytes, opcode: int) -> list[SessionEvent]:
        if opcode == FromButton.FULL_VERIFY_FAIL_RESPONSE and len(packet) >= 2:
            self._refused(packet)
        if opcode != FromButton.FULL_VERIFY_RESPONSE_2 or len(packet) < 59 + MAC_LEN:
            return []
        try:
            body = self._check_mac(packet)
        except MacMismatchError as exc:
            raise GenuineCheckError(f"{self.address} failed the key agreement") from exc
        rsp = packets.parse_full_verify_response_2(body)
        pairing = self._new_pairing(rsp, duo=bool(body[1] & duo.FULL_VERIFY_2_IS_DUO))
        self._delivered = None
        self._become_ready(max_queued=0)
        return [Paired(pairing, battery_millivolt(rsp.battery_level))]

    def _on_quick_verify(self, packet: bytes, opcode: int, conn_id: int) -> list[SessionEvent]:
        assert self._pairing is not None
        if opcode == FromButton.QUICK_VERIFY_NEGATIVE_RESPONSE and len(packet) >= 5:
            if packets.parse_u32(packet, "QuickVerifyNegativeResponse") == self._tmp_id:
                # Unsigned, so anyone nearby could have sent it: make the button prove it first.
                self._tmp_id = struct.unpack("<I", self._random(4))[0]
                self._send_plain(packets.full_verify_request_1(self._tmp_id))
                self.state = State.WAIT_UNPAIRED_FULL_VERIFY_1
            return []
        if opcode != FromButton.QUICK_VERIFY_RESPONSE or len(packet) < 14 + MAC_LEN:
            return []
        button_random = packet[1:9]
        (tmp_id,) = struct.unpack_from("<I", packet, 9)
        if tmp_id != self._tmp_id:
            return []
        self._conn_id = conn_id
        key = crypto.quick_verify_session_key(
            self._pairing.pairing_key,
            self._client_random,
            button_random,
            self._qv_flags,
        )
        self._keys = ChaskeyKeys.from_key(key)
        self._check_mac(packet)
        self._update_pairing(duo=bool(packet[13] & duo.QUICK_VERIFY_IS_DUO))
        self._become_ready(max_queued=31)
        return [Verified()]

    def _become_ready(self, max_queued: int) -> None:
        assert self._pairing is not None
        self.state = State.READY
        self._waiting_init = True
        if self._pairing.duo:
            pairing = self._pairing
            self._duo = DuoLink([pairing.event_count, pairing.event_count_small])
            counts = (pairing.event_count, pairing.event_count_small)
            request = duo.init_button_events_duo_request(
                counts, pairing.boot_id, max_queued_packets=max_queued
            )
            self._send_signed(request)
            return
        self._send_signed(
            packets.init_button_events_light_request(
                self._pairing.event_count,
                self._pairing.boot_id,
                max_queued_packets=max_queued,
            )
        )

    def _after_initial_events(self) -> None:
        self._send_signed(packets.set_connection_parameters_ind(*CONN_PARAMS))
        if self._duo is not None:
            self._send_signed(duo.enable_push_twist_ind())
        assert self._pairing is not None
        if self._pairing.firmware_version >= 6 and not self._pairing.adv_configured:
            # Once per boot: how the button advertises when it loses us, so we find it again.
            self._request(packets.set_adv_parameters_request())
        self._request(packets.opcode_only(ToButton.GET_BATTERY_LEVEL_REQUEST))
        self._request(packets.opcode_only(ToButton.GET_NAME_REQUEST))
        self._request(packets.opcode_only(ToButton.GET_FIRMWARE_VERSION_REQUEST))

    def _on_signed(self, body: bytes, now: datetime) -> list[SessionEvent]:
        opcode = body[0]
        if opcode in (
            FromButton.INIT_BUTTON_EVENTS_RESPONSE_WITH_BOOT_ID,
            FromButton.INIT_BUTTON_EVENTS_RESPONSE_WITHOUT_BOOT_ID,
        ):
            return self._on_init_response(packets.parse_init_button_events_response(body), now)
        if opcode == FromButton.BUTTON_EVENT_NOTIFICATION and self._duo is None:
            return self._on_button_events(body, now)
        if self._duo is not None and opcode in duo.SESSION_OPCODES:
            return self._on_duo(body, now)
        if opcode == FromButton.PING_REQUEST:
            self._send_signed(packets.opcode_only(ToButton.PING_RESPONSE))
            return []
        if opcode == FromButton.GET_BATTERY_LEVEL_RESPONSE:
            self._answered()
            return [Battery(battery_millivolt(packets.parse_u16(body, "battery level")))]
        if opcode in (FromButton.GET_NAME_RESPONSE, FromButton.SET_NAME_RESPONSE):
            self._answered()
            return self._name(packets.parse_name(body))
        if opcode == FromButton.NAME_UPDATED_NOTIFICATION:
            return self._name(packets.parse_name(body))
        if opcode == FromButton.SET_ADV_PARAMETERS_RESPONSE:
            self._answered()
            self._update_pairing(adv_configured=True)
            return []
        if opcode == FromButton.GET_FIRMWARE_VERSION_RESPONSE:
            return self._firmware(body, "firmware version")
        if opcode == FromButton.DISCONNECTED_VERIFIED_LINK_IND:
            raise self._link_closed(body)
        return []

    def _name(self, name: str) -> list[SessionEvent]:
        self._update_pairing(name=name)
        return [NameChanged(name)]

    def _on_init_response(
        self, rsp: packets.InitButtonEventsResponse, now: datetime
    ) -> list[SessionEvent]:
        if not self._waiting_init:
            return []
        self._waiting_init = False
        self._init_timestamp = rsp.timestamp
        self._init_at = now
        if rsp.boot_id is not None:
            self._update_pairing(boot_id=rsp.boot_id, adv_configured=False)
            self._delivered = None
        if not rsp.has_queued_events:
            self._update_pairing(event_count=rsp.event_count)
            self._delivered = rsp.event_count
            self._after_initial_events()
            return [QueueDrained()]
        return []

    def _on_duo(self, body: bytes, now: datetime) -> list[SessionEvent]:
        link = self._duo
        assert link is not None
        presses: list[Press] = []
        if body[0] == duo.PUSH_TWIST_DATA_NOTIFICATION:
            return list(link.twist(body, now))
        if body[0] == duo.BUTTON_EVENT_DUO_NOTIFICATION:
            presses, ack, drained = link.events(body[1:], now)
            if ack is not None:
                self._send_signed(ack)
        elif self._waiting_init:
            self._waiting_init = False
            rsp = duo.parse_init_duo_response(body)
            if rsp.boot_id is not None:
                self._update_pairing(boot_id=rsp.boot_id, adv_configured=False)
            drained = link.initialised(rsp, now, rebooted=rsp.boot_id is not None)
        else:
            return []
        big, small = link.counts
        self._update_pairing(event_count=big, event_count_small=small)
        out: list[SessionEvent] = list(presses)
        if drained:
            self._after_initial_events()
            out.append(QueueDrained())
        return out

    def _on_button_events(self, body: bytes, now: datetime) -> list[SessionEvent]:
        notification = packets.parse_button_event_notification(body)
        items = decode_notification(notification, self._init_timestamp)
        presses, self._delivered = new_presses(items, self._delivered, self._init_at or now, now)
        out: list[SessionEvent] = list(presses)
        if self._delivered is not None:
            self._update_pairing(event_count=self._delivered)
        if any(item.ack_worthy for item in items) and self._delivered is not None:
            self._send_signed(packets.ack_button_events_ind(self._delivered))
        if any(item.queued_last for item in items):
            self._after_initial_events()
            out.append(QueueDrained())
        return out
