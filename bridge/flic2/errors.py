"""Errors of the Flic 2 protocol layer; the BLE source turns them into SourceError."""

from __future__ import annotations

from bridge.errors import BridgeError


class Flic2Error(BridgeError):
    """Base of every Flic 2 protocol failure."""


class ProtocolError(Flic2Error):
    """A packet was malformed or arrived when it makes no sense."""


class GenuineCheckError(Flic2Error):
    """The button failed the vendor-signature check or the key agreement: not a genuine Flic 2."""


class MacMismatchError(Flic2Error):
    """A packet's 5-byte MAC did not verify (corrupted, forged or replayed)."""


class NotPairableError(Flic2Error):
    """The button is not in public (pairing) mode: hold it for 7 seconds first."""


class PairingUnknownError(Flic2Error):
    """The button no longer knows our pairing (factory reset or paired elsewhere): pair again."""


class TooManyAppsError(Flic2Error):
    """The button has no free logical connection slot."""


class LinkClosedError(Flic2Error):
    """The button ended the verified link."""


class CredentialsRefusedError(Flic2Error):
    """The button is locked to other app credentials and refused ours: nothing was paired."""


class ForgedUnpairedError(Flic2Error):
    """A "pairing unknown" answer was disproved by the button itself: keep the pairing, retry."""
