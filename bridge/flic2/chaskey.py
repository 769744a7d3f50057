"""Chaskey-LTS (16 rounds) as the Flic 2 protocol uses it: 5-byte packet MACs and a 16-byte PRF."""

from __future__ import annotations

import struct
from dataclasses import dataclass

_MASK = 0xFFFFFFFF
MAC_LEN = 5


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK


def _permute(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    """The Chaskey-LTS permutation: 16 rounds of add-rotate-xor."""
    for _ in range(16):
        v0 = (v0 + v1) & _MASK
        v1 = _rol(v1, 5) ^ v0
        v0 = _rol(v0, 16)
        v2 = (v2 + v3) & _MASK
        v3 = _rol(v3, 8) ^ v2
        v0 = (v0 + v3) & _MASK
        v3 = _rol(v3, 13) ^ v0
        v2 = (v2 + v1) & _MASK
        v1 = _rol(v1, 7) ^ v2
        v2 = _rol(v2, 16)
    return v0, v1, v2, v3


def _times_two(k: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Doubling in GF(2^128) with the Chaskey reduction constant 0x87."""
    value = k[0] | (k[1] << 32) | (k[2] << 64) | (k[3] << 96)
    carry = value >> 127
    value = ((value << 1) & ((1 << 128) - 1)) ^ (0x87 * carry)
    return (value & _MASK, (value >> 32) & _MASK, (value >> 64) & _MASK, value >> 96)


@dataclass(frozen=True, slots=True)
class ChaskeyKeys:
    """A 16-byte key with its two derived subkeys (k1 = 2k, k2 = 4k)."""

    k: tuple[int, int, int, int]
    k1: tuple[int, int, int, int]
    k2: tuple[int, int, int, int]

    @classmethod
    def from_key(cls, key: bytes) -> ChaskeyKeys:
        """Derive the subkeys of a 16-byte key."""
        if len(key) != 16:
            raise ValueError(f"a Chaskey key is 16 bytes, got {len(key)}")
        k: tuple[int, int, int, int] = struct.unpack("<4I", key)
        k1 = _times_two(k)
        return cls(k=k, k1=k1, k2=_times_two(k1))


def _xor4(a: tuple[int, int, int, int], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    return (a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3])


def mac_with_keys(keys: ChaskeyKeys, direction: int, counter: int, data: bytes) -> bytes:
    """The 5-byte MAC of a packet; the counter and direction are mixed into the initial state."""
    counter &= 0xFFFFFFFFFFFFFFFF
    v = _xor4(keys.k, (counter & _MASK, counter >> 32, direction & _MASK, 0))
    v = _permute(*v)
    # Every 16-byte block but the last is absorbed with a plain permutation.
    full_blocks = max(0, (len(data) - 1) // 16)
    for i in range(full_blocks):
        v = _permute(*_xor4(v, struct.unpack_from("<4I", data, i * 16)))
    last = data[full_blocks * 16 :]
    if len(last) == 16:
        final_key = keys.k1
    else:
        last = last + b"\x01" + bytes(15 - len(last))
        final_key = keys.k2
    v = _xor4(_xor4(v, struct.unpack("<4I", last)), final_key)
    v = _permute(*v)
    tag = struct.pack("<2I", v[0] ^ final_key[0], v[1] ^ final_key[1])
    return tag[:MAC_LEN]


def block_with_keys(keys: ChaskeyKeys, block: bytes) -> bytes:
    """Chaskey of exactly one 16-byte block: the PRF used for quick-verify session keys."""
    if len(block) != 16:
        raise ValueError(f"a Chaskey block is 16 bytes, got {len(block)}")
    v = _xor4(_xor4(keys.k, keys.k1), struct.unpack("<4I", block))
    v = _xor4(_permute(*v), keys.k1)
    return struct.pack("<4I", *v)


def chaskey_mac(key: bytes, direction: int, counter: int, data: bytes) -> bytes:
    """The 5-byte Flic 2 packet MAC of `data` under a 16-byte key (subkeys derived here)."""
    return mac_with_keys(ChaskeyKeys.from_key(key), direction, counter, data)


def chaskey16(key: bytes, block: bytes) -> bytes:
    """Chaskey of one 16-byte block under a 16-byte key (subkeys derived here)."""
    return block_with_keys(ChaskeyKeys.from_key(key), block)
