"""Admin API for the inbound log: newest first, one message with its raw body."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from server.alerts.store import NotFoundError
from server.auth.admin import require_admin
from server.context import Ctx

router = APIRouter(
    prefix="/api/v1/inbound", tags=["inbound log"], dependencies=[Depends(require_admin)]
)

StatusName = Literal[
    "mapped", "mapped_appended", "mapped_ignored", "mapping_failed", "filtered", "suppressed"
]


@router.get("")
async def list_messages(
    ctx: Ctx,
    integration_id: int | None = None,
    status: StatusName | None = None,
    alert_id: int | None = None,
    before: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """Newest first; pass the last item's `message_id` as `before` for the next page."""
    items = await ctx.db.run(
        lambda: ctx.store.list_inbound(
            integration_id=integration_id,
            status=status,
            alert_id=alert_id,
            before=before,
            limit=limit,
        )
    )
    return {"items": items}


@router.get("/{message_id}")
async def get_message(message_id: str, ctx: Ctx) -> dict[str, Any]:
    """One message; `raw_body` is the text when it is UTF-8, else null and `raw_body_base64`."""
    try:
        row = await ctx.db.run(ctx.store.get_inbound, message_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    raw: bytes = row.pop("raw_body")
    row["body_truncated"] = bool(row["body_truncated"])
    try:
        row["raw_body"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        row["raw_body"] = None
    row["raw_body_base64"] = base64.b64encode(raw).decode("ascii")
    return row
