"""Console pages for alerts: the list (open first) and one alert with its timeline."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from server.alerts.actions import CloseRefusedError, acknowledge_alert, close_alert
from server.alerts.model import ConflictError, NotFoundError
from server.console.core import Sess, api, api_ok, checked_form, render, see_other
from server.console.maintenance import active_windows
from server.console.sessions import ConsoleError
from server.context import get_ctx

router = APIRouter(include_in_schema=False)

ORDER = ("open", "acknowledged", "closed")
View = Literal["active", "open", "acknowledged", "closed", "all"]


async def integration_names(request: Request) -> dict[int, str]:
    body = await api_ok(request, "GET", "/api/v1/integrations")
    return {i["id"]: i["name"] for i in body["items"]}


@router.get("/", response_class=HTMLResponse)
async def alert_list(
    request: Request, session: Sess, view: View = "active", integration_id: int | None = None
) -> Response:
    wanted = {
        "active": ("open", "acknowledged"),
        "all": ORDER,
    }.get(view, (view,))
    alerts: list[dict[str, Any]] = []
    for status in wanted:
        body = await api_ok(
            request,
            "GET",
            "/api/v1/alerts",
            params={"status": status, "integration_id": integration_id, "limit": 200},
        )
        alerts += body["items"]
    counts = {}
    for status in ("open", "acknowledged"):
        body = await api_ok(
            request, "GET", "/api/v1/alerts", params={"status": status, "limit": 1000}
        )
        counts[status] = len(body["items"])
    return render(
        request,
        "console/alerts.html",
        session,
        alerts=alerts,
        view=view,
        counts=counts,
        names=await integration_names(request),
        maintenance=await active_windows(request),
        integration_id=integration_id,
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(request: Request, alert_id: int, session: Sess) -> Response:
    alert = await api_ok(request, "GET", f"/api/v1/alerts/{alert_id}")
    escalation = await api(request, "GET", f"/api/v1/escalations/{alert_id}")
    messages = await api_ok(
        request, "GET", "/api/v1/inbound", params={"alert_id": alert_id, "limit": 200}
    )
    names = await integration_names(request)
    return render(
        request,
        "console/alert.html",
        session,
        alert=alert,
        escalation=escalation.body if escalation.ok else None,
        messages=messages["items"],
        integration_name=names.get(alert["integration_id"], f"#{alert['integration_id']}"),
    )


@router.post("/alerts/{alert_id}/{action}")
async def alert_action(request: Request, alert_id: int, action: str, session: Sess) -> Response:
    form = await checked_form(request, session)
    if action not in ("acknowledge", "close"):
        raise ConsoleError(404, f"no such alert action {action!r}: acknowledge or close")
    act = acknowledge_alert if action == "acknowledge" else close_alert
    try:
        await act(get_ctx(request), alert_id, by=f"{session.who} (console)")
    except NotFoundError as exc:
        raise ConsoleError(404, str(exc)) from exc
    except CloseRefusedError as exc:
        raise ConsoleError(409, str(exc)) from exc
    except ConflictError:
        pass  # already acknowledged or closed (another tab, a link, the button): show it
    back = form.get("back")
    target = back if isinstance(back, str) and back.startswith("/") and "//" not in back else "/"
    return see_other(target)
