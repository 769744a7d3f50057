"""Bearer-token auth for the admin API (constant-time compare)."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from server.context import Ctx


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_admin(request: Request, ctx: Ctx) -> None:
    """FastAPI dependency: 401 unless the request carries the admin token."""
    token = bearer_token(request)
    if token is None:
        raise HTTPException(
            401,
            "missing admin token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.encode(), ctx.admin_token.encode()):
        raise HTTPException(401, "wrong admin token", headers={"WWW-Authenticate": "Bearer"})
