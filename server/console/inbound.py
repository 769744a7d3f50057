"""Console pages for the inbound log: filter by status and integration, one message's raw body."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from server.console.alerts import integration_names
from server.console.core import Sess, api_ok, render
from server.console.format import STATUS_LABELS
from server.console.maintenance import active_windows
from server.console.sessions import ConsoleError

router = APIRouter(include_in_schema=False)


@router.get("/inbound", response_class=HTMLResponse)
async def inbound_log(
    request: Request,
    session: Sess,
    status: str = "",
    integration_id: str = "",
    before: str = "",
) -> Response:
    if status and status not in STATUS_LABELS:
        raise ConsoleError(
            422, f"unknown status {status!r}; choose one of {', '.join(STATUS_LABELS)}"
        )
    if integration_id and not integration_id.isdigit():
        raise ConsoleError(422, f"integration_id must be a number, not {integration_id!r}")
    body = await api_ok(
        request,
        "GET",
        "/api/v1/inbound",
        params={
            "status": status,
            "integration_id": integration_id,
            "before": before,
            "limit": 100,
        },
    )
    items = body["items"]
    return render(
        request,
        "console/inbound.html",
        session,
        items=items,
        status=status,
        integration_id=int(integration_id) if integration_id else None,
        before=before,
        next_before=items[-1]["message_id"] if len(items) == 100 else None,
        names=await integration_names(request),
        maintenance=await active_windows(request),
        labels=STATUS_LABELS,
    )


@router.get("/inbound/{message_id}", response_class=HTMLResponse)
async def inbound_message(request: Request, message_id: str, session: Sess) -> Response:
    message = await api_ok(request, "GET", f"/api/v1/inbound/{message_id}")
    names = await integration_names(request)
    return render(
        request,
        "console/message.html",
        session,
        message=message,
        integration_name=names.get(message["integration_id"], f"#{message['integration_id']}"),
    )
