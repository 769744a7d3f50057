"""Flic Twist: its own GATT service and packets, its button and rotation events, to clicks.

Facts from the vendor's pyflic-ble 0.2.5 (const.py, protocol.py, handlers/twist.py,
rotate_tracker.py, client.py); no real Twist was checked. What differs from the Flic 2:
- its own service UUID and vendor signing key; no frame header (a packet is one write: opcode,
  payload, then the 5-byte MAC once verified, over opcode and payload, as the Flic 2);
- its own opcodes; the key derivations mix in a flags byte of 0 (no "supports Duo");
- init (opcode 12) configures 13 modes: 0-11 the selector's 12 positions, 12 "pushed while
  turning" (how the user moves the selector); the answer (8) always carries the boot id;
- button events (9) are 8-byte items: 48-bit time (32768 Hz), a 4-bit code (low 2 bits
  0 up, 1 down, 2 single-click timeout, 3 hold; bit 3 on an up: it ends a double click),
  queued flags, and the 4-bit mode the dial was in; acknowledged with opcode 13 and the count;
- rotation (10): the mode and the angle turned since the last one (49152 units a turn);
- the battery is read in millivolts (two AAA cells);
- the vendor's SDK does not check the MACs of what the button sends (pyflic-ble strips them).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from bridge.flic2.errors import ProtocolError
from bridge.flic2.turns import detents
from bridge.models import ClickType

SERVICE_UUID = "00c90000-2cbd-4f2a-a725-5ccd960ffb7d"
WRITE_UUID = "00c90001-2cbd-4f2a-a725-5ccd960ffb7d"
NOTIFY_UUID = "00c90002-2cbd-4f2a-a725-5ccd960ffb7d"
# The vendor's Ed25519 key that signs every genuine Twist's X25519 key.
VENDOR_PUBLIC_KEY = bytes.fromhex(
    "a8b7df10434f565069e4131f5b13f1d9056faf2b61cf929b05d02d630bdaf48b"
)

SLOTS = 12  # selector positions 0-11; mode 12 is "pushed while turning"
PUSHED_MODE = 12
API_VERSION = 2


class ToTwist(enum.IntEnum):
    """Opcodes the app sends."""

    FULL_VERIFY_REQUEST_1 = 0x00
    FULL_VERIFY_REQUEST_2 = 0x02
    QUICK_VERIFY_REQUEST = 0x05
    GET_FIRMWARE_VERSION_REQUEST = 0x07
    GET_NAME_REQUEST = 0x0A
    INIT_BUTTON_EVENTS_REQUEST = 0x0C
    ACK_BUTTON_EVENTS_IND = 0x0D
    GET_BATTERY_LEVEL_REQUEST = 0x11


class FromTwist(enum.IntEnum):
    """Opcodes the Twist sends."""

    FULL_VERIFY_RESPONSE_1 = 0x00
    FULL_VERIFY_RESPONSE_2 = 0x01
    FULL_VERIFY_FAIL_RESPONSE = 0x02
    GET_FIRMWARE_VERSION_RESPONSE = 0x04
    QUICK_VERIFY_NEGATIVE_RESPONSE = 0x05
    QUICK_VERIFY_RESPONSE = 0x06
    DISCONNECTED_VERIFIED_LINK_IND = 0x07
    INIT_BUTTON_EVENTS_RESPONSE = 0x08
    BUTTON_EVENT_NOTIFICATION = 0x09
    TWIST_EVENT_NOTIFICATION = 0x0A
    GET_NAME_RESPONSE = 0x0C
    GET_BATTERY_LEVEL_RESPONSE = 0x10


def quick_verify_request(client_random: bytes, tmp_id: int, pairing_id: int) -> bytes:
    """7 random bytes, the variants byte (0: no encryption, as the vendor's SDK), ids."""
    if len(client_random) != 7:
        raise ValueError("quick verify takes 7 random bytes")
    return struct.pack(
        "<B7sBII", ToTwist.QUICK_VERIFY_REQUEST, client_random, 0, tmp_id, pairing_id
    )


def _mode(*, clicks: bool, led_mode: int, timeout_s: int) -> bytes:
    """One mode's config: LED mode (6 bits), has click, has double click; position 0 (where the
    LED ring starts: the bridge does not drive it)."""
    packed = (led_mode & 0x3F) | (int(clicks) << 6) | (int(clicks) << 7)
    return struct.pack("<IB", packed, timeout_s)


def init_button_events_request(event_count: int, boot_id: int) -> bytes:
    """Events after `event_count`; the 13 modes as pyflic-ble's selector mode sets them: every
    position with single and double clicks, "pushed while turning" without."""
    positions = _mode(clicks=True, led_mode=1, timeout_s=60) * SLOTS
    pushed = _mode(clicks=False, led_mode=3, timeout_s=0)
    return (
        struct.pack("<BI", ToTwist.INIT_BUTTON_EVENTS_REQUEST, event_count)
        + positions
        + pushed
        + struct.pack("<IB", boot_id, API_VERSION)
    )


def ack_button_events_ind(event_count: int) -> bytes:
    """Every event up to `event_count` is handled."""
    return struct.pack("<BI", ToTwist.ACK_BUTTON_EVENTS_IND, event_count)


@dataclass(frozen=True, slots=True)
class InitResponse:
    has_queued_events: bool
    timestamp: int  # button clock, 32768 Hz
    event_count: int
    boot_id: int


def parse_init_response(body: bytes) -> InitResponse:
    if len(body) < 16:
        raise ProtocolError(f"Twist InitButtonEventsResponse is {len(body)} bytes, needs 16")
    first = int.from_bytes(body[1:7], "little")
    event_count, boot_id = struct.unpack_from("<II", body, 7)
    return InitResponse(bool(first & 1), (first >> 1) & ((1 << 47) - 1), event_count, boot_id)


@dataclass(frozen=True, slots=True)
class TwistItem:
    """One button event of a Twist."""

    timestamp: int
    code: int
    queued: bool
    queued_last: bool
    mode: int  # 0-11 the selector position, 12 pushed while turning

    @property
    def click_types(self) -> tuple[ClickType, ...]:
        """As pyflic-ble reads the code; an up cannot tell a hold's release, so no `click`."""
        base = self.code & 3
        if base == 0:
            return (ClickType.UP, ClickType.DOUBLE) if self.code & 8 else (ClickType.UP,)
        return ((), (ClickType.DOWN,), (ClickType.SINGLE,), (ClickType.HOLD,))[base]


@dataclass(frozen=True, slots=True)
class ButtonEvents:
    event_count: int  # what to acknowledge, and to ask for events after on the next init
    items: tuple[TwistItem, ...]


def parse_button_events(body: bytes) -> ButtonEvents:
    if len(body) < 5 or (len(body) - 5) % 8:
        raise ProtocolError(f"Twist button events of {len(body)} bytes: items are not 8 bytes")
    (count,) = struct.unpack_from("<I", body, 1)
    items = []
    for offset in range(5, len(body), 8):
        flags, high = body[offset + 6], body[offset + 7]
        items.append(
            TwistItem(
                timestamp=int.from_bytes(body[offset : offset + 6], "little"),
                code=flags & 0x0F,
                queued=bool(flags & 0x10),
                queued_last=bool(flags & 0x20),
                mode=(flags >> 6) | ((high & 3) << 2),
            )
        )
    return ButtonEvents(count, tuple(items))


@dataclass(frozen=True, slots=True)
class Rotation:
    mode: int
    total_delta: int  # units turned since the last notification


def parse_rotation(body: bytes) -> Rotation:
    if len(body) < 13:
        raise ProtocolError(f"TwistEventNotification is {len(body)} bytes, needs 13")
    total = int.from_bytes(body[2:5], "little", signed=True)
    return Rotation(mode=body[1] & 0x0F, total_delta=total)


def turn_clicks(rotation: Rotation, remainder: int) -> tuple[list[ClickType], int]:
    """`twist_right`/`_left` per detent at a selector position; `push_twist_*` while pushed."""
    whole, left = detents(remainder, rotation.total_delta)
    pushed = rotation.mode == PUSHED_MODE
    if whole > 0:
        kind = ClickType.PUSH_TWIST_RIGHT if pushed else ClickType.TWIST_RIGHT
    else:
        kind = ClickType.PUSH_TWIST_LEFT if pushed else ClickType.TWIST_LEFT
    return [kind] * abs(whole), left


def battery_percent(millivolt: int) -> int:
    """Two AAA cells: 3.0 V and above full, 2.2 V empty, linear between (an estimate)."""
    return max(0, min(100, round((millivolt - 2200) / 8)))
