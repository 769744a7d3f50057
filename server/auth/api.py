"""`/api/v1/users/{id}/password`: set or remove a user's console password (write-only)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from server.auth.admin import require_admin
from server.auth.passwords import (
    MAX_LENGTH,
    PasswordRefusedError,
    PasswordStore,
    hash_password,
)
from server.console.sessions import SessionStore
from server.context import AppContext, Ctx
from server.fields import RowIdPath

router = APIRouter(prefix="/api/v1", tags=["people"], dependencies=[Depends(require_admin)])


class PasswordIn(BaseModel):
    """`POST /api/v1/users/{id}/password`."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(max_length=MAX_LENGTH)


@router.post("/users/{user_id}/password", status_code=204)
async def set_password(user_id: RowIdPath, body: PasswordIn, ctx: Ctx) -> Response:
    """Give a user a password for the console (salted scrypt hash only); ends their sessions."""
    try:
        hashed = await asyncio.to_thread(hash_password, body.password)
    except PasswordRefusedError as exc:
        raise HTTPException(422, str(exc)) from exc
    now = ctx.clock()
    if not await ctx.db.run(_ending_sessions, ctx, user_id, lambda s: s.save(user_id, hashed, now)):
        raise HTTPException(404, f"user {user_id} does not exist")
    return Response(status_code=204)


@router.delete("/users/{user_id}/password", status_code=204)
async def clear_password(user_id: RowIdPath, ctx: Ctx) -> Response:
    """Remove a user's password: they can no longer log in, and their sessions end."""
    if not await ctx.db.run(_ending_sessions, ctx, user_id, lambda s: s.clear(user_id)):
        raise HTTPException(404, f"user {user_id} has no password")
    return Response(status_code=204)


def _ending_sessions(
    ctx: AppContext, user_id: int, change: Callable[[PasswordStore], bool]
) -> bool:
    """Change a password and end the user's console sessions, together (database thread)."""
    db = ctx.store.db
    with db.transaction():
        changed = change(PasswordStore(db))
        if changed:
            SessionStore(db).end_for_user(user_id)
    return changed
