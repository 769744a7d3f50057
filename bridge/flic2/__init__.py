"""The Flic 2 protocol (and the Twist's), free of I/O: frames, packets, verify, MACs, button
events, a session per device."""

from __future__ import annotations

from bridge.flic2.chaskey import chaskey16, chaskey_mac
from bridge.flic2.crypto import VENDOR_PUBLIC_KEY
from bridge.flic2.errors import (
    CredentialsRefusedError,
    Flic2Error,
    ForgedUnpairedError,
    GenuineCheckError,
    LinkClosedError,
    MacMismatchError,
    NotPairableError,
    PairingUnknownError,
    ProtocolError,
    TooManyAppsError,
)
from bridge.flic2.pairing import Pairing
from bridge.flic2.session import Flic2Session
from bridge.flic2.session_events import (
    Battery,
    FirmwareVersion,
    NameChanged,
    Paired,
    Press,
    QueueDrained,
    SessionEvent,
    Verified,
)
from bridge.flic2.twist_session import TwistSession

# GATT layout of the Flic 2 service.
SERVICE_UUID = "00420000-8f59-4420-870d-84f3b617e493"
WRITE_UUID = "00420001-8f59-4420-870d-84f3b617e493"
NOTIFY_UUID = "00420002-8f59-4420-870d-84f3b617e493"
MANUFACTURER_ID = 0x030F

__all__ = [
    "MANUFACTURER_ID",
    "NOTIFY_UUID",
    "SERVICE_UUID",
    "VENDOR_PUBLIC_KEY",
    "WRITE_UUID",
    "Battery",
    "CredentialsRefusedError",
    "FirmwareVersion",
    "Flic2Error",
    "Flic2Session",
    "ForgedUnpairedError",
    "GenuineCheckError",
    "LinkClosedError",
    "MacMismatchError",
    "NameChanged",
    "NotPairableError",
    "Paired",
    "Pairing",
    "PairingUnknownError",
    "Press",
    "ProtocolError",
    "QueueDrained",
    "SessionEvent",
    "TooManyAppsError",
    "TwistSession",
    "Verified",
    "chaskey16",
    "chaskey_mac",
]
