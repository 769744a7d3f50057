"""Handshake pieces of a Flic 2 session: its states, the vendor's constants, proof checks."""

from __future__ import annotations

import enum
import hmac
from typing import NoReturn

from bridge.flic2.crypto import UnpairedProofs
from bridge.flic2.errors import ForgedUnpairedError, GenuineCheckError, PairingUnknownError

# Connection parameters the vendor's module asks for: 100-112.5 ms, latency 17, 8 s timeout.
CONN_PARAMS = (80, 90, 17, 800)
MAX_OUTSTANDING_REQUESTS = 2


def battery_millivolt(level: int) -> int:
    """The button's 10-bit battery reading in millivolts (3.6 V full scale)."""
    return (level * 3600 + 512) // 1024


class State(enum.Enum):
    """Where the handshake stands."""

    IDLE = "idle"
    WAIT_FULL_VERIFY_1 = "wait-full-verify-1"
    WAIT_FULL_VERIFY_2 = "wait-full-verify-2"
    WAIT_QUICK_VERIFY = "wait-quick-verify"
    # The button said "pairing unknown" unsigned: a fresh full verify to make it prove that.
    WAIT_UNPAIRED_FULL_VERIFY_1 = "wait-unpaired-full-verify-1"
    WAIT_UNPAIRED_TEST = "wait-unpaired-test"
    READY = "ready"


def judge_unpaired_test(address: str, proofs: UnpairedProofs, result: bytes) -> NoReturn:
    """End the session the way the button's TestIfReallyUnpaired answer says (as the C module)."""
    if hmac.compare_digest(result, proofs.not_exists):
        raise PairingUnknownError(
            f"{address} no longer knows this pairing: pair it again (flic-bridge pair --ble)"
        )
    if hmac.compare_digest(result, proofs.exists):
        raise ForgedUnpairedError(
            f"{address} still knows this pairing: a forged 'pairing unknown' was ignored and "
            "the pairing kept"
        )
    raise GenuineCheckError(f"{address} answered the unpaired test with a bad proof")
