"""The signed acknowledge/close links: no login, the signature is the credential."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from server.alerts.actions import CloseRefusedError, acknowledge_alert, close_alert
from server.alerts.store import ConflictError, NotFoundError
from server.context import Ctx
from server.escalation.deps import EscalationRuntime, runtime
from server.escalation.links import LinkError, verify

Rt = Annotated[EscalationRuntime, Depends(runtime)]
router = APIRouter(tags=["links"])


_VERB = {"acknowledge": ("Acknowledge", "acknowledged"), "close": ("Close", "closed")}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


@router.get("/l/{token}", response_class=HTMLResponse)
async def link_page(token: str, ctx: Ctx, rt: Rt) -> HTMLResponse:
    """Show what the link will do; a POST does it (mail scanners that fetch links do nothing)."""
    try:
        claim = verify(rt.link_secret, token, rt.clock())
        alert = await ctx.db.run(ctx.store.get_alert, claim.alert_id)
    except LinkError as exc:
        return _page("Link not valid", f"<p>{html.escape(str(exc))}</p>", 403)
    except NotFoundError:
        return _page("Alert not found", "<p>This alert no longer exists.</p>", 404)
    verb, _ = _VERB[claim.action]
    return _page(
        f"{verb} alert #{alert.id}",
        f"<p><b>{html.escape(alert.title)}</b> is <b>{alert.status}</b>.</p>"
        f"<form method='post'><button style='font-size:2em' type='submit'>{verb}</button></form>",
    )


@router.post("/l/{token}", response_class=HTMLResponse)
async def link_action(token: str, ctx: Ctx, rt: Rt) -> HTMLResponse:
    """Acknowledge or close the alert the link names."""
    try:
        claim = verify(rt.link_secret, token, rt.clock())
    except LinkError as exc:
        return _page("Link not valid", f"<p>{html.escape(str(exc))}</p>", 403)
    _, done = _VERB[claim.action]
    act = acknowledge_alert if claim.action == "acknowledge" else close_alert
    try:
        await act(ctx, claim.alert_id, by="link")
    except NotFoundError:
        return _page("Alert not found", "<p>This alert no longer exists.</p>", 404)
    except CloseRefusedError as exc:
        return _page("Not closed", f"<p>{html.escape(str(exc))}.</p>", 409)
    except ConflictError:
        alert = await ctx.db.run(ctx.store.get_alert, claim.alert_id)
        if alert.status == done or alert.status == "closed":
            return _page(f"Alert #{alert.id} is {alert.status}", "<p>Nothing more to do.</p>")
        return _page(f"Alert #{alert.id} is {alert.status}", "<p>Nothing was changed.</p>", 409)
    return _page(f"Alert #{claim.alert_id} {done}", "<p>Paging has stopped. Thank you.</p>")
