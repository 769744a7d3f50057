"""What a Flic 2 and a Flic Twist session share: their handshake state and verify steps.

Each protocol keeps its own packets and order; only the steps that are the same live here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

from bridge.flic2 import crypto, packets
from bridge.flic2.channel import SignedChannel
from bridge.flic2.errors import (
    CredentialsRefusedError,
    GenuineCheckError,
    LinkClosedError,
    NotPairableError,
)
from bridge.flic2.handshake import State
from bridge.flic2.pairing import Pairing, address_to_wire
from bridge.flic2.session_events import FirmwareVersion, SessionEvent


@dataclasses.dataclass(frozen=True, slots=True)
class Agreement:
    """Our half of a full verify's key agreement: the public key to send and the secret."""

    public_key: bytes
    shared: bytes
    variant: int


class VerifyingChannel(SignedChannel):
    """A signed channel to a device that verifies (full or quick) against a pairing."""

    product = "Flic 2"  # in "not a genuine ..." errors
    credentials_hint = ""  # appended to the "locked to another app's credentials" error

    def __init__(
        self,
        address: str,
        pairing: Pairing | None,
        verify_key: bytes,
        random: Callable[[int], bytes],
        att_mtu: int,
    ) -> None:
        super().__init__(address.lower(), att_mtu)
        self._wire_address = address_to_wire(self.address)
        self._pairing = pairing
        self._verify_key = verify_key
        self._random = random
        self.state = State.IDLE
        self._tmp_id = 0
        self._client_random = b""
        self._fv_pairing: tuple[int, bytes] = (0, b"")
        self._waiting_init = False
        self._init_timestamp = 0
        self._init_at: datetime | None = None
        # Last event count delivered; None after a reboot (accept whatever comes next).
        self._delivered: int | None = pairing.event_count if pairing else None

    @property
    def pairing(self) -> Pairing | None:
        """The pairing with the event count and boot id as they stand now."""
        return self._pairing

    def _update_pairing(self, **changes: int | str | bool) -> None:
        assert self._pairing is not None
        self._pairing = dataclasses.replace(self._pairing, **changes)  # type: ignore[arg-type]

    def _agree(self, rsp: packets.FullVerifyResponse1, bad_signature: str) -> Agreement:
        """Check the vendor's signature on the device's key, draw ours, agree a shared secret."""
        variant = crypto.signature_variant(self._verify_key, rsp.signature, rsp.signed_message)
        if variant is None:
            raise GenuineCheckError(
                f"{self.address} is not a genuine {self.product}: {bad_signature}"
            )
        private, public = crypto.x25519_keypair(self._random(32))
        self._client_random = self._random(8)
        try:
            shared = crypto.shared_secret(private, rsp.public_key)
        except ValueError as exc:
            raise GenuineCheckError(f"{self.address} sent an unusable key: {exc}") from exc
        return Agreement(public, shared, variant)

    def _refused(self, packet: bytes) -> NoReturn:
        """Raise for a FullVerifyFailResponse (opcode, reason)."""
        if packet[1] == packets.FullVerifyFailReason.NOT_IN_PUBLIC_MODE:
            raise NotPairableError(f"{self.address} is not in pairing mode: hold it for 7 seconds")
        raise GenuineCheckError(f"{self.address} refused pairing (reason {packet[1]})")

    def _new_pairing(
        self, rsp: packets.FullVerifyResponse2, *, duo: bool = False, twist: bool = False
    ) -> Pairing:
        """The pairing a FullVerifyResponse2 grants, unless the device is locked to another app."""
        if not rsp.app_credentials_match and rsp.cares_about_app_credentials:
            raise CredentialsRefusedError(
                f"{self.address} refused pairing: it is locked to another app's credentials"
                + self.credentials_hint
            )
        pairing_id, pairing_key = self._fv_pairing
        self._pairing = Pairing(
            address=self.address,
            pairing_id=pairing_id,
            pairing_key=pairing_key,
            name=rsp.name,
            serial_number=rsp.serial_number,
            uuid=rsp.uuid.hex(),
            firmware_version=rsp.firmware_version,
            duo=duo,
            twist=twist,
        )
        return self._pairing

    def _firmware(self, body: bytes, what: str) -> list[SessionEvent]:
        """A GetFirmwareVersionResponse: answers a request and updates the pairing."""
        self._answered()
        version = packets.parse_u32(body, what)
        self._update_pairing(firmware_version=version)
        return [FirmwareVersion(version)]

    def _link_closed(self, body: bytes) -> LinkClosedError:
        reason = body[1] if len(body) > 1 else -1
        return LinkClosedError(f"{self.address} closed the verified link (reason {reason})")
