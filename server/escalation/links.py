"""Signed, single-purpose, expiring acknowledge/close links that work without logging in."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from server.errors import AlertServerError

LinkAction = Literal["acknowledge", "close"]
_ACTIONS: tuple[LinkAction, ...] = ("acknowledge", "close")
_DOMAIN = b"flic-edge alert link v1\n"
LINK_PATH = "/l/"


class LinkError(AlertServerError):
    """A link that is malformed, forged, for another purpose, or expired."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a link allows: one action on one alert until `expires_at`."""

    action: LinkAction
    alert_id: int
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MIN_SECRET_BYTES = 16


def _mac(secret: bytes, payload: bytes) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        # An empty key (a link-secret file a power cut left empty) would let anyone sign.
        raise LinkError(f"the link secret is shorter than {MIN_SECRET_BYTES} bytes: links are off")
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()


def sign(secret: bytes, claim: LinkClaim) -> str:
    """The URL-safe token carrying `claim`, signed with HMAC-SHA256."""
    payload = f"{claim.action}:{claim.alert_id}:{int(claim.expires_at.timestamp())}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: bytes, token: str, now: datetime) -> LinkClaim:
    """The claim a token carries, or LinkError saying why it does not count."""
    encoded, _, mac = token.partition(".")
    try:
        payload = _unb64(encoded)
        given = _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise LinkError("malformed link") from exc
    if not mac or not hmac.compare_digest(given, _mac(secret, payload)):
        raise LinkError("link signature does not match")
    try:
        action, alert_id, expires = payload.decode("ascii").split(":")
        claim = LinkClaim(
            _ACTIONS[_ACTIONS.index(action)],
            int(alert_id),
            datetime.fromtimestamp(int(expires), UTC),
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise LinkError("malformed link") from exc
    if now >= claim.expires_at:
        raise LinkError("link expired")
    return claim


def link_url(public_base_url: str, token: str) -> str:
    """The full URL a person opens for `token`."""
    return f"{public_base_url.rstrip('/')}{LINK_PATH}{token}"
