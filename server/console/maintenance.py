"""Console forms for maintenance windows (create, end now, delete) and who is in maintenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from server.console.core import Sess, api, api_ok, checked_form, see_other
from server.console.format import as_datetime
from server.console.sessions import ConsoleError
from server.context import get_ctx

router = APIRouter(include_in_schema=False)

UNITS_S = {"min": 60, "h": 3600, "d": 86400}


async def active_windows(request: Request) -> dict[int, dict[str, Any]]:
    """Integration id -> its window in force now (the one ending last)."""
    answer = await api(request, "GET", "/api/v1/maintenance", params={"active": "true"})
    found: dict[int, dict[str, Any]] = {}
    for window in answer.body["items"] if answer.ok else []:
        known = found.get(window["integration_id"])
        if known is None or str(window["end_at"]) > str(known["end_at"]):
            found[window["integration_id"]] = window
    return found


def sort_windows(windows: list[dict[str, Any]], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Windows split into active, upcoming and past."""
    groups: dict[str, list[dict[str, Any]]] = {"active": [], "upcoming": [], "past": []}
    for window in sorted(windows, key=lambda w: str(w["start_at"])):
        start, end = as_datetime(window["start_at"]), as_datetime(window["end_at"])
        if window["active"]:
            groups["active"].append(window)
        elif start is not None and start > now:
            groups["upcoming"].append(window)
        elif end is not None:
            groups["past"].append(window)
    groups["past"].reverse()
    return groups


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _local_time(text: str, label: str) -> str | None:
    """A `datetime-local` field (read as UTC) or ISO 8601 text, as ISO 8601 with an offset."""
    if not text:
        return None
    at = as_datetime(text)
    if at is None:
        raise ConsoleError(422, f"{label} is not a date and time: {text!r}")
    return at.isoformat()


def window_body(form: FormData) -> dict[str, Any]:
    """The API body for a window from the form: start, then end or duration, and a reason."""
    body: dict[str, Any] = {"reason": _field(form, "reason")}
    start = _local_time(_field(form, "start_at"), "Start")
    if start is not None:
        body["start_at"] = start
    end = _local_time(_field(form, "end_at"), "End")
    duration = _field(form, "duration")
    if end is not None and duration:
        raise ConsoleError(422, "give an end or a duration, not both")
    if end is not None:
        body["end_at"] = end
    elif duration:
        unit = _field(form, "unit") or "min"
        if unit not in UNITS_S:
            raise ConsoleError(422, f"unknown duration unit {unit!r}: min, h or d")
        try:
            amount = float(duration)
        except ValueError as exc:
            raise ConsoleError(422, f"duration must be a number, not {duration!r}") from exc
        body["duration_s"] = amount * UNITS_S[unit]
    else:
        raise ConsoleError(422, "give an end or a duration")
    return body


def _back(integration_id: int, notice: str) -> Response:
    return see_other(f"/integrations/{integration_id}?notice={notice}#maintenance")


@router.post("/integrations/{integration_id}/maintenance")
async def create_window(request: Request, integration_id: int, session: Sess) -> Response:
    form = await checked_form(request, session)
    answer = await api(
        request,
        "POST",
        f"/api/v1/integrations/{integration_id}/maintenance",
        json=window_body(form),
    )
    if not answer.ok:
        raise ConsoleError(answer.status if answer.status < 500 else 502, answer.error)
    return _back(integration_id, "window-added")


@router.post("/integrations/{integration_id}/maintenance/{window_id}/end")
async def end_window(
    request: Request, integration_id: int, window_id: int, session: Sess
) -> Response:
    await checked_form(request, session)
    path = f"/api/v1/integrations/{integration_id}/maintenance/{window_id}"
    window = await api_ok(request, "GET", path)
    now = get_ctx(request).clock()
    start = as_datetime(window["start_at"])
    if start is not None and start >= now:
        await api_ok(request, "DELETE", path)  # not started yet: ending it means dropping it
    else:
        await api_ok(
            request, "PUT", path, json={"end_at": now.isoformat(), "reason": window["reason"]}
        )
    return _back(integration_id, "window-ended")


@router.post("/integrations/{integration_id}/maintenance/{window_id}/delete")
async def delete_window(
    request: Request, integration_id: int, window_id: int, session: Sess
) -> Response:
    await checked_form(request, session)
    path = f"/api/v1/integrations/{integration_id}/maintenance/{window_id}"
    await api_ok(request, "DELETE", path)
    return _back(integration_id, "window-deleted")
