"""Console pages for integrations: create, inbound URL, mapping, sample test, rotate, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from server.console.core import Sess, api, api_ok, checked_form, inbound_url, render, see_other
from server.console.format import pretty_json
from server.console.maintenance import sort_windows
from server.console.sessions import ConsoleError, Session
from server.context import get_ctx
from server.integrations.kinds import KINDS

router = APIRouter(include_in_schema=False)


NOTICES = {
    "window-added": "Maintenance window added.",
    "window-ended": "Maintenance window ended.",
    "window-deleted": "Maintenance window deleted.",
}


class FormError(ValueError):
    """A form field that cannot be used as given."""


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _json_field(form: FormData, name: str, label: str) -> Any:
    text = _text(form, name)
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"{label} is not valid JSON: {exc}") from exc


POLICY_FIELDS = {"escalation_policy_id": "escalation policy", "urgent_policy_id": "urgent policy"}
# The form fields an integration's pages echo back when the API refuses them.
CREATE_FIELDS = ("name", "kind", "mapping", *POLICY_FIELDS, "close_from_source_only")
EDIT_FIELDS = ("name", "mapping", "sample_data", *POLICY_FIELDS, "close_from_source_only")


def _policy_id(form: FormData, name: str = "escalation_policy_id") -> int | None:
    text = _text(form, name)
    if not text:
        return None
    if not text.isdigit():
        raise FormError(f"{POLICY_FIELDS[name]} must be a number, not {text!r}")
    return int(text)


def _settings(form: FormData) -> dict[str, Any]:
    """The policies and `close_from_source_only` (a checkbox: absent means off)."""
    found: dict[str, Any] = {name: _policy_id(form, name) for name in POLICY_FIELDS}
    found["close_from_source_only"] = _text(form, "close_from_source_only") == "yes"
    return found


def payload_of(text: str) -> Any:
    """Pasted sample data: JSON when it parses, else the text as sent (the Flic-guide body)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def _policies(request: Request) -> list[dict[str, Any]]:
    answer = await api(request, "GET", "/api/v1/escalation-policies")
    return list(answer.body["items"]) if answer.ok else []


@router.get("/integrations", response_class=HTMLResponse)
async def integration_list(request: Request, session: Sess) -> Response:
    return await _list_page(request, session)


async def _list_page(
    request: Request, session: Session, error: str = "", form: dict[str, str] | None = None
) -> Response:
    body = await api_ok(request, "GET", "/api/v1/integrations")
    items = [{**i, "inbound_url": inbound_url(request, i["inbound_path"])} for i in body["items"]]
    return render(
        request,
        "console/integrations.html",
        session,
        status_code=422 if error else 200,
        items=items,
        kinds=KINDS,
        policies=await _policies(request),
        error=error,
        form=form or {},
    )


@router.post("/integrations")
async def integration_create(request: Request, session: Sess) -> Response:
    form = await checked_form(request, session)
    echo = {k: _text(form, k) for k in CREATE_FIELDS}
    try:
        body: dict[str, Any] = {"name": echo["name"], "kind": echo["kind"] or "flic"}
        mapping = _json_field(form, "mapping", "Mapping")
        if mapping is not None:
            body["mapping"] = mapping
        body.update(_settings(form))
    except FormError as exc:
        return await _list_page(request, session, str(exc), echo)
    answer = await api(request, "POST", "/api/v1/integrations", json=body)
    if not answer.ok:
        return await _list_page(request, session, answer.error, echo)
    return see_other(f"/integrations/{answer.body['id']}")


async def _page(
    request: Request,
    session: Session,
    integration_id: int,
    *,
    error: str = "",
    notice: str = "",
    edit: dict[str, str] | None = None,
    test: dict[str, Any] | None = None,
    test_payload: str | None = None,
) -> Response:
    integration = await api_ok(request, "GET", f"/api/v1/integrations/{integration_id}")
    sample = integration.get("sample_data")
    sample_text = (
        "" if sample is None else (sample if isinstance(sample, str) else pretty_json(sample))
    )
    windows = await api_ok(request, "GET", f"/api/v1/integrations/{integration_id}/maintenance")
    heartbeat = None
    if integration["kind"] == "heartbeat":
        answer = await api(request, "GET", f"/api/v1/heartbeats/{integration_id}")
        heartbeat = answer.body if answer.ok else None
    return render(
        request,
        "console/integration.html",
        session,
        windows=sort_windows(windows["items"], get_ctx(request).clock()),
        heartbeat=heartbeat,
        ping_url=None if heartbeat is None else inbound_url(request, heartbeat["ping_path"]),
        status_code=422 if error else 200,
        integration=integration,
        url=inbound_url(request, integration["inbound_path"]),
        policies=await _policies(request),
        error=error,
        notice=notice,
        edit=edit
        or {
            "name": integration["name"],
            "mapping": pretty_json(integration["mapping"]),
            "sample_data": sample_text,
            "escalation_policy_id": str(integration.get("escalation_policy_id") or ""),
            "urgent_policy_id": str(integration.get("urgent_policy_id") or ""),
            "close_from_source_only": "yes" if integration["close_from_source_only"] else "",
        },
        test=test,
        test_payload=sample_text if test_payload is None else test_payload,
    )


@router.get("/integrations/{integration_id}", response_class=HTMLResponse)
async def integration_page(
    request: Request, integration_id: int, session: Sess, notice: str = ""
) -> Response:
    return await _page(request, session, integration_id, notice=NOTICES.get(notice, ""))


@router.post("/integrations/{integration_id}/edit")
async def integration_edit(request: Request, integration_id: int, session: Sess) -> Response:
    form = await checked_form(request, session)
    echo = {k: _text(form, k) for k in EDIT_FIELDS}
    try:
        mapping = _json_field(form, "mapping", "Mapping")
        if mapping is None:
            raise FormError("Mapping cannot be empty")
        changes: dict[str, Any] = {
            "name": echo["name"],
            "mapping": mapping,
            "sample_data": payload_of(echo["sample_data"]) if echo["sample_data"] else None,
            **_settings(form),
        }
    except FormError as exc:
        return await _page(request, session, integration_id, error=str(exc), edit=echo)
    answer = await api(request, "PATCH", f"/api/v1/integrations/{integration_id}", json=changes)
    if not answer.ok:
        return await _page(request, session, integration_id, error=answer.error, edit=echo)
    return await _page(request, session, integration_id, notice="Saved.")


@router.post("/integrations/{integration_id}/test")
async def integration_test(request: Request, integration_id: int, session: Sess) -> Response:
    form = await checked_form(request, session)
    text = _text(form, "payload")
    body: dict[str, Any] = {"dry_run": form.get("send") != "yes"}
    if text:
        body["payload"] = payload_of(text)
    answer = await api(request, "POST", f"/api/v1/integrations/{integration_id}/test", json=body)
    if not answer.ok:
        return await _page(request, session, integration_id, error=answer.error, test_payload=text)
    return await _page(request, session, integration_id, test=answer.body, test_payload=text)


@router.post("/integrations/{integration_id}/rotate-token")
async def integration_rotate(request: Request, integration_id: int, session: Sess) -> Response:
    await checked_form(request, session)
    await api_ok(request, "POST", f"/api/v1/integrations/{integration_id}/rotate-token")
    return await _page(
        request,
        session,
        integration_id,
        notice="New token: the old URL no longer works. Update every sender.",
    )


@router.post("/integrations/{integration_id}/delete")
async def integration_delete(request: Request, integration_id: int, session: Sess) -> Response:
    form = await checked_form(request, session)
    if form.get("confirm") != "yes":
        raise ConsoleError(422, "tick the box to confirm the deletion")
    await api_ok(request, "DELETE", f"/api/v1/integrations/{integration_id}")
    return see_other("/integrations")
