"""`POST /api/v1/users/{id}/test-page`: page one person on every contact, now, to prove it works."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from server.auth.admin import require_admin
from server.context import Ctx
from server.escalation.deps import EscalationRuntime, runtime
from server.notify.base import Page
from server.notify.contacts import contacts_of, shown

log = logging.getLogger(__name__)
Rt = Annotated[EscalationRuntime, Depends(runtime)]
router = APIRouter(prefix="/api/v1", tags=["people"], dependencies=[Depends(require_admin)])


@dataclass(frozen=True, slots=True)
class TrialPage(Page):
    """A page about no alert: it says it is a test and carries no links."""

    def subject(self) -> str:
        return " ".join(f"[flic-edge] Test page: {self.title}".split())

    def text(self) -> str:
        return f"{self.title}\n{self.description}"


@router.post("/users/{user_id}/test-page")
async def test_page(user_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    """Send a test page to each of the user's contacts; answer what each channel said."""
    user = await ctx.db.run(lambda: rt.store.user(user_id))
    if user is None:
        raise HTTPException(404, f"no user {user_id}")
    contacts = contacts_of(user.email, user.contacts)
    if not contacts:
        raise HTTPException(422, f"user {user.name!r} has no email or contact URL to page")
    page = TrialPage(
        0,
        f"{user.name}, this is a test",
        "If you read this, flic-edge reaches you here. Nothing to do.",
        "",
        "",
    )
    results = []
    for contact in contacts:
        channel = rt.channels.get(contact.channel)
        status, error = "sent", None
        try:
            if channel is None:
                raise RuntimeError(f"channel {contact.channel} not configured")
            async with asyncio.timeout(rt.send_timeout_s):
                await channel.send(contact.address, page)
        except Exception as exc:  # every failure is reported, none stops the other contacts
            status, error = "failed", str(exc) or type(exc).__name__
            log.warning("test page to user %d via %s failed: %s", user_id, contact.kind, error)
        results.append(
            {"kind": contact.kind, "contact": shown(contact), "status": status, "error": error}
        )
    return {"user_id": user_id, "results": results}
