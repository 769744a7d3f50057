"""Key checks and derivations of full and quick verify (X25519, Ed25519, SHA-256, HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bridge.flic2.chaskey import ChaskeyKeys, block_with_keys

# The vendor's Ed25519 key that signs every genuine Flic 2 button's X25519 key.
VENDOR_PUBLIC_KEY = bytes.fromhex(
    "d33f2440dd54b31b2e1dcf40132efa41d8f8a7474168df4008f5a95fb3b0d022"
)


def signature_variant(verify_key: bytes, signature: bytes, message: bytes) -> int | None:
    """The low 2 bits of signature byte 32 that make it verify (they are not authentic), or None."""
    if len(signature) != 64:
        return None
    key = Ed25519PublicKey.from_public_bytes(verify_key)
    for variant in range(4):
        candidate = bytearray(signature)
        candidate[32] = (candidate[32] & 0xFC) | variant
        try:
            key.verify(bytes(candidate), message)
        except InvalidSignature:
            continue
        return variant
    return None


def x25519_keypair(secret: bytes) -> tuple[X25519PrivateKey, bytes]:
    """Our ephemeral X25519 key from 32 random bytes, and its public half."""
    private = X25519PrivateKey.from_private_bytes(secret)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def shared_secret(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    """X25519 ECDH; a low-order peer key is rejected by `cryptography` with ValueError."""
    return private.exchange(X25519PublicKey.from_public_bytes(peer_public))


def full_verify_secret(
    shared: bytes, variant: int, button_random: bytes, client_random: bytes, flags: int = 0
) -> bytes:
    """SHA-256 of shared secret, signature variant, both randoms and the flags byte."""
    return hashlib.sha256(
        shared + bytes([variant]) + button_random + client_random + bytes([flags])
    ).digest()


def _hmac(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class FullVerifyKeys:
    """What full verify derives: the verifier we send, the session MAC key, the stored pairing."""

    verifier: bytes  # 16 bytes, "AT"
    session_key: bytes  # 16 bytes, "SK"
    pairing_id: int  # first 4 bytes of "PK", little-endian
    pairing_key: bytes  # next 16 bytes of "PK"


def derive_full_verify_keys(secret: bytes) -> FullVerifyKeys:
    """HMAC-SHA256 derivations labelled AT, SK and PK from the full-verify secret."""
    pk = _hmac(secret, b"PK")
    return FullVerifyKeys(
        verifier=_hmac(secret, b"AT")[:16],
        session_key=_hmac(secret, b"SK")[:16],
        pairing_id=int.from_bytes(pk[:4], "little"),
        pairing_key=pk[4:20],
    )


def quick_verify_session_key(
    pairing_key: bytes, client_random: bytes, button_random: bytes, flags: int = 0
) -> bytes:
    """Quick-verify session key: Chaskey(pairing key) of client(7) || flags || button(8)."""
    if len(client_random) != 7 or len(button_random) != 8:
        raise ValueError("quick verify randoms are 7 (client) and 8 (button) bytes")
    block = client_random + bytes([flags]) + button_random
    return block_with_keys(ChaskeyKeys.from_key(pairing_key), block)


@dataclass(frozen=True, slots=True)
class UnpairedProofs:
    """TestIfReallyUnpaired: the token we send and the two answers a genuine button can give."""

    token: bytes  # 16 bytes, "PT" over our pairing: proves we hold it without revealing it
    not_exists: bytes  # 16 bytes, "NE": the button really does not know the pairing
    exists: bytes  # 16 bytes, "EX": it does; the "pairing unknown" we got was forged


def unpaired_proofs(secret: bytes, pairing_id: int, pairing_key: bytes) -> UnpairedProofs:
    """The vendor module's PT/NE/EX derivations over id(4) || key(16) from a fresh full verify."""
    pairing = pairing_id.to_bytes(4, "little") + pairing_key
    token = _hmac(secret, b"PT" + pairing)[:16]
    return UnpairedProofs(
        token=token,
        not_exists=_hmac(secret, b"NE" + token)[:16],
        exists=_hmac(secret, b"EX" + pairing[:16])[:16],
    )
