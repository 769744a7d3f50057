"""Small pieces the simulated Flic 2, Duo and Twist share: link state, event records, digests."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass
class _Event:
    count: int
    timestamp: int
    code: int


@dataclass
class _Link:
    """One logical connection's state on the button."""

    conn_id: int
    mtu: int
    parts: bytearray = field(default_factory=bytearray)
    key: bytes | None = None
    tx: int = 0
    rx: int = 0
    ready: bool = False
    button_random: bytes = b""


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _after(count: int, than: int) -> bool:
    return count != than and ((count - than) & 0xFFFFFFFF) < 0x80000000
