"""Who may watch the board: the admin token, a console session, or a signed board link."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import HTTPException, Request

from server.auth.admin import bearer_token
from server.console.core import session_of
from server.console.sessions import same_token
from server.context import get_ctx
from server.errors import AlertServerError
from server.escalation.links import MIN_SECRET_BYTES

BOARD_COOKIE = "board_link"
BOARD_LINK_PATH = "/board/link/"
_DOMAIN = b"flic-edge board link v1\n"
_PREFIX = "b1"


class BoardLinkError(AlertServerError):
    """A board link that is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Someone allowed to watch the board; only `can_close` viewers may close from it."""

    who: str
    can_close: bool


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, payload: str) -> str:
    if len(secret) < MIN_SECRET_BYTES:  # an empty link-secret file must not let anyone sign
        raise BoardLinkError(f"the link secret is shorter than {MIN_SECRET_BYTES} bytes")
    return _b64(hmac.new(secret, _DOMAIN + payload.encode(), hashlib.sha256).digest())


def sign_board_link(secret: bytes, issued_at: datetime, expires_at: datetime | None) -> str:
    """A token that opens the board (view and acknowledge) until `expires_at` (None: always)."""
    expires = 0 if expires_at is None else int(expires_at.timestamp())
    payload = f"{_PREFIX}.{int(issued_at.timestamp())}.{expires}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_board_link(secret: bytes, token: str, now: datetime) -> datetime | None:
    """When the token expires (None: never), or BoardLinkError saying why it does not count."""
    payload, _, mac = token.rpartition(".")
    try:
        prefix, _issued, expires_text = payload.split(".")
        expires = int(expires_text)
    except ValueError as exc:
        raise BoardLinkError("malformed board link") from exc
    if prefix != _PREFIX:
        raise BoardLinkError("malformed board link")
    try:
        good = hmac.compare_digest(mac.encode("ascii"), _mac(secret, payload).encode("ascii"))
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise BoardLinkError("malformed board link") from exc
    if not good:
        raise BoardLinkError("board link signature does not match (was the link secret changed?)")
    if expires == 0:
        return None
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise BoardLinkError("board link expired")
    return expires_at


def board_link_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{BOARD_LINK_PATH}{token}"


async def viewer_of(request: Request, secret: bytes) -> Viewer | None:
    """The viewer this request comes from, or None."""
    ctx = get_ctx(request)
    token = bearer_token(request)
    if token is not None and same_token(token, ctx.admin_token):
        return Viewer("admin API", can_close=True)
    session = await session_of(request)
    if session is not None:
        return Viewer(session.who, can_close=True)
    link = request.cookies.get(BOARD_COOKIE)
    if link:
        try:
            verify_board_link(secret, link, ctx.clock())
        except BoardLinkError:
            return None
        return Viewer("board link", can_close=False)
    return None


async def require_viewer(request: Request, secret: bytes) -> Viewer:
    """The viewer, else 401 naming the three ways in."""
    viewer = await viewer_of(request, secret)
    if viewer is None:
        raise HTTPException(
            401,
            "log in to the console, open a board link (`alert-server board-link`), "
            "or send Authorization: Bearer <admin token>",
        )
    return viewer
