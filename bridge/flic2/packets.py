"""Flic 2 packet layouts (little-endian, packed): encoders for requests, decoders for replies."""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from bridge.flic2.errors import ProtocolError

MAC_LEN = 5
NAME_MAX_BYTES = 23


class ToButton(enum.IntEnum):
    """Opcodes the app sends."""

    FULL_VERIFY_REQUEST_1 = 0
    FULL_VERIFY_REQUEST_2_WITH_APP_TOKEN = 1
    FULL_VERIFY_REQUEST_2_WITHOUT_APP_TOKEN = 2
    FULL_VERIFY_ABORT_IND = 3
    TEST_IF_REALLY_UNPAIRED_REQUEST = 4
    QUICK_VERIFY_REQUEST = 5
    FORCE_BT_DISCONNECT_IND = 6
    GET_FIRMWARE_VERSION_REQUEST = 8
    DISCONNECT_VERIFIED_LINK_IND = 9
    SET_NAME_REQUEST = 10
    GET_NAME_REQUEST = 11
    SET_CONNECTION_PARAMETERS_IND = 12
    PING_RESPONSE = 14
    INIT_BUTTON_EVENTS_REQUEST = 15
    ACK_BUTTON_EVENTS_IND = 16
    SET_AUTO_DISCONNECT_TIME_IND = 19
    GET_BATTERY_LEVEL_REQUEST = 20
    INIT_BUTTON_EVENTS_LIGHT_REQUEST = 23
    SET_ADV_PARAMETERS_REQUEST = 27


class FromButton(enum.IntEnum):
    """Opcodes the button sends."""

    FULL_VERIFY_RESPONSE_1 = 0
    FULL_VERIFY_RESPONSE_2 = 1
    NO_LOGICAL_CONNECTION_SLOTS_IND = 2
    FULL_VERIFY_FAIL_RESPONSE = 3
    TEST_IF_REALLY_UNPAIRED_RESPONSE = 4
    GET_FIRMWARE_VERSION_RESPONSE = 5
    QUICK_VERIFY_NEGATIVE_RESPONSE = 6
    PAIRING_FINISHED_IND = 7
    QUICK_VERIFY_RESPONSE = 8
    DISCONNECTED_VERIFIED_LINK_IND = 9
    INIT_BUTTON_EVENTS_RESPONSE_WITH_BOOT_ID = 10
    INIT_BUTTON_EVENTS_RESPONSE_WITHOUT_BOOT_ID = 11
    BUTTON_EVENT_NOTIFICATION = 12
    API_TIMER_NOTIFICATION = 13
    NAME_UPDATED_NOTIFICATION = 14
    PING_REQUEST = 15
    GET_NAME_RESPONSE = 16
    SET_NAME_RESPONSE = 17
    GET_BATTERY_LEVEL_RESPONSE = 20
    SET_ADV_PARAMETERS_RESPONSE = 25


class FullVerifyFailReason(enum.IntEnum):
    """Why the button refused a full verify."""

    INVALID_VERIFIER = 0
    NOT_IN_PUBLIC_MODE = 1


# --- requests (app -> button) ---------------------------------------------------------------


def full_verify_request_1(tmp_id: int) -> bytes:
    """Start pairing; `tmp_id` lets us recognise the answer meant for us."""
    return struct.pack("<BI", ToButton.FULL_VERIFY_REQUEST_1, tmp_id)


def full_verify_request_2(
    public_key: bytes, client_random: bytes, verifier: bytes, flags: int = 0
) -> bytes:
    """Our X25519 key, our 8 random bytes, the flags byte (variants 0, no app token; 0x80 says
    we support the Duo) and the 16-byte verifier."""
    if len(public_key) != 32 or len(client_random) != 8 or len(verifier) != 16:
        raise ValueError("full verify 2 needs a 32-byte key, 8 random bytes, 16-byte verifier")
    return (
        bytes([ToButton.FULL_VERIFY_REQUEST_2_WITHOUT_APP_TOKEN])
        + public_key
        + client_random
        + bytes([flags])
        + verifier
    )


def quick_verify_request(
    client_random: bytes, tmp_id: int, pairing_id: int, flags: int = 0
) -> bytes:
    """Reconnect with a stored pairing: 7 random bytes, flags (0x40: Duo), tmp id, pairing id."""
    if len(client_random) != 7:
        raise ValueError("quick verify takes 7 random bytes")
    return (
        bytes([ToButton.QUICK_VERIFY_REQUEST])
        + client_random
        + struct.pack("<BII", flags, tmp_id, pairing_id)
    )


def init_button_events_light_request(
    event_count: int,
    boot_id: int,
    *,
    auto_disconnect_s: int = 511,
    max_queued_packets: int = 31,
    max_queued_age_s: int = 0xFFFFF,
) -> bytes:
    """Ask for events after `event_count`; the 40-bit field packs 9+5+20 bits, then enable_hid=0."""
    bits = (
        (auto_disconnect_s & 0x1FF)
        | ((max_queued_packets & 0x1F) << 9)
        | ((max_queued_age_s & 0xFFFFF) << 14)
    )
    return struct.pack("<BII", ToButton.INIT_BUTTON_EVENTS_LIGHT_REQUEST, event_count, boot_id) + (
        bits.to_bytes(5, "little")
    )


def test_if_really_unpaired_request(
    public_key: bytes, client_random: bytes, pairing_id: int, token: bytes
) -> bytes:
    """Ask a button that said "pairing unknown" to prove it: our fresh key, randoms, the token."""
    if len(public_key) != 32 or len(client_random) != 8 or len(token) != 16:
        raise ValueError("test-if-unpaired needs a 32-byte key, 8 random bytes, 16-byte token")
    return (
        bytes([ToButton.TEST_IF_REALLY_UNPAIRED_REQUEST])
        + public_key
        + client_random
        + struct.pack("<I", pairing_id)
        + token
    )


def set_adv_parameters_request(
    *,
    short_range: bool = True,
    long_range: bool = False,
    intervals: tuple[int, int] = (160, 12800),
    timeout_s: int = 86400,
) -> bytes:
    """How the button advertises after losing us (0.625 ms units): the vendor module's values."""
    return struct.pack(
        "<B4B2HI",
        ToButton.SET_ADV_PARAMETERS_REQUEST,
        1,  # active
        0,  # keep other apps' advertising settings
        int(short_range),
        int(long_range),
        *intervals,
        timeout_s,
    )


def ack_button_events_ind(event_count: int) -> bytes:
    """Tell the button every event up to `event_count` is handled."""
    return struct.pack("<BI", ToButton.ACK_BUTTON_EVENTS_IND, event_count)


def set_connection_parameters_ind(
    intv_min: int, intv_max: int, latency: int, timeout: int
) -> bytes:
    """BLE connection parameters (1.25 ms units, events, 10 ms units)."""
    return struct.pack(
        "<B4H", ToButton.SET_CONNECTION_PARAMETERS_IND, intv_min, intv_max, latency, timeout
    )


def opcode_only(opcode: ToButton) -> bytes:
    """A request with no payload (ping response, battery, name, firmware version)."""
    return bytes([opcode])


# --- replies (button -> app) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FullVerifyResponse1:
    """The button's signed X25519 key and its random bytes."""

    tmp_id: int
    signature: bytes
    address: bytes  # 6 bytes, little-endian (least significant byte first)
    address_type: int
    public_key: bytes
    button_random: bytes
    flags: int

    @property
    def signed_message(self) -> bytes:
        """address || address type || public key: what the vendor key signed."""
        return self.address + bytes([self.address_type]) + self.public_key


@dataclass(frozen=True, slots=True)
class FullVerifyResponse2:
    """Pairing accepted: the button's identity, name, firmware, battery."""

    app_credentials_match: bool
    cares_about_app_credentials: bool
    uuid: bytes
    name: str
    firmware_version: int
    battery_level: int
    serial_number: str


@dataclass(frozen=True, slots=True)
class InitButtonEventsResponse:
    """Answer to init: the button clock, its event counter and, if it rebooted, the new boot id."""

    has_queued_events: bool
    timestamp: int  # button clock, 32768 Hz
    event_count: int
    boot_id: int | None


@dataclass(frozen=True, slots=True)
class EventItem:
    """One entry of a button event notification."""

    timestamp: int
    code: int  # 4-bit event encoding
    was_queued: bool
    was_queued_last: bool


@dataclass(frozen=True, slots=True)
class ButtonEventNotification:
    """Button events; `press_counter` is the event count of the last item."""

    press_counter: int
    items: tuple[EventItem, ...]


def _need(packet: bytes, length: int, what: str) -> None:
    if len(packet) < length:
        raise ProtocolError(f"{what} is {len(packet)} bytes, needs at least {length}")


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")


def parse_full_verify_response_1(packet: bytes) -> FullVerifyResponse1:
    """Decode FullVerifyResponse1 (117 bytes)."""
    _need(packet, 117, "FullVerifyResponse1")
    (tmp_id,) = struct.unpack_from("<I", packet, 1)
    return FullVerifyResponse1(
        tmp_id=tmp_id,
        signature=packet[5:69],
        address=packet[69:75],
        address_type=packet[75],
        public_key=packet[76:108],
        button_random=packet[108:116],
        flags=packet[116],
    )


def parse_full_verify_response_2(body: bytes) -> FullVerifyResponse2:
    """Decode FullVerifyResponse2 (59 bytes, MAC already removed)."""
    _need(body, 59, "FullVerifyResponse2")
    flags = body[1]
    name_len = min(body[18], NAME_MAX_BYTES)
    firmware, battery = struct.unpack_from("<IH", body, 42)
    return FullVerifyResponse2(
        app_credentials_match=bool(flags & 1),
        cares_about_app_credentials=bool(flags & 2),
        uuid=body[2:18],
        name=body[19 : 19 + name_len].decode("utf-8", errors="replace"),
        firmware_version=firmware,
        battery_level=battery,
        serial_number=_text(body[48:59]),
    )


def parse_init_button_events_response(body: bytes) -> InitButtonEventsResponse:
    """Decode either init response; the one with a boot id means the button rebooted."""
    with_boot = body[0] == FromButton.INIT_BUTTON_EVENTS_RESPONSE_WITH_BOOT_ID
    _need(body, 15 if with_boot else 11, "InitButtonEventsResponse")
    first = int.from_bytes(body[1:7], "little")
    (event_count,) = struct.unpack_from("<I", body, 7)
    boot_id = struct.unpack_from("<I", body, 11)[0] if with_boot else None
    return InitButtonEventsResponse(
        has_queued_events=bool(first & 1),
        timestamp=(first >> 1) & ((1 << 47) - 1),
        event_count=event_count,
        boot_id=boot_id,
    )


def parse_button_event_notification(body: bytes) -> ButtonEventNotification:
    """Decode a notification: u32 press counter, then 7-byte items (48-bit time, flags byte)."""
    _need(body, 12, "ButtonEventNotification")
    if (len(body) - 5) % 7:
        raise ProtocolError(f"ButtonEventNotification of {len(body)} bytes: items are not 7 bytes")
    (press_counter,) = struct.unpack_from("<I", body, 1)
    items = []
    for offset in range(5, len(body), 7):
        flags = body[offset + 6]
        items.append(
            EventItem(
                timestamp=int.from_bytes(body[offset : offset + 6], "little"),
                code=flags & 0x0F,
                was_queued=bool(flags & 0x10),
                was_queued_last=bool(flags & 0x20),
            )
        )
    return ButtonEventNotification(press_counter, tuple(items))


def parse_name(body: bytes) -> str:
    """The name in GetName/SetName responses (after a 48-bit timestamp) or NameUpdated."""
    start = 1 if body[0] == FromButton.NAME_UPDATED_NOTIFICATION else 7
    _need(body, start, "name packet")
    return body[start : start + NAME_MAX_BYTES].decode("utf-8", errors="replace")


def parse_u32_list(packet: bytes) -> list[int]:
    """The whole u32 values after the opcode (NoLogicalConnectionSlotsInd's tmp ids)."""
    whole = packet[1 : 1 + (len(packet) - 1) // 4 * 4]
    return [x for (x,) in struct.iter_unpack("<I", whole)]


def parse_u16(body: bytes, what: str) -> int:
    """A reply carrying one uint16 (battery level)."""
    _need(body, 3, what)
    return int(struct.unpack_from("<H", body, 1)[0])


def parse_u32(body: bytes, what: str) -> int:
    """A reply carrying one uint32 (firmware version, tmp id)."""
    _need(body, 5, what)
    return int(struct.unpack_from("<I", body, 1)[0])
