"""Bearer-token auth for the admin API (constant-time compare)."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from server.context import Ctx


def bearer_of(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, if any."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_token(request: Request) -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header, if any."""
    return bearer_of(request.headers.get("authorization", ""))


def admin_refusal(authorization: str, expected: str) -> str | None:
    """Why an `Authorization` header value does not carry the admin token; None when it does."""
    token = bearer_of(authorization)
    if token is None:
        return "missing admin token: send Authorization: Bearer <token>"
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return "wrong admin token"
    return None


def require_admin(request: Request, ctx: Ctx) -> None:
    """FastAPI dependency: 401 unless the request carries the admin token."""
    refusal = admin_refusal(request.headers.get("authorization", ""), ctx.admin_token)
    if refusal is not None:
        raise HTTPException(401, refusal, headers={"WWW-Authenticate": "Bearer"})
