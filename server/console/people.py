"""Console pages for people: users, groups, schedules (who is on call now), escalation policies."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from server.console.core import Sess, api, api_ok, checked_form, render, see_other
from server.console.format import pretty_json
from server.console.sessions import ConsoleError, Session

router = APIRouter(include_in_schema=False)

# kind in the URL -> (label, API collection)
KINDS = {
    "users": "User",
    "groups": "Group",
    "schedules": "Schedule",
    "escalation-policies": "Escalation policy",
}


def example(kind: str) -> dict[str, Any]:
    """A starting point for a new item of `kind`, valid once the ids exist."""
    today = date.today().isoformat()
    examples: dict[str, dict[str, Any]] = {
        "users": {"name": "Ada", "email": "ada@example.org", "phone": None, "contacts": []},
        "groups": {"name": "Front office", "members": [1]},
        "schedules": {
            "name": "Front office week",
            "time_zone": "Europe/Berlin",
            "rotations": [
                {
                    "users": [1],
                    "start_date": today,
                    "handoff_time": "09:00",
                    "shift_length": 1,
                    "shift_unit": "weeks",
                }
            ],
            "overrides": [],
        },
        "escalation-policies": {
            "name": "Front desk",
            "steps": [{"after_s": 0, "notify": [{"schedule": 1}]}],
            "repeat": 0,
        },
    }
    return examples[kind]


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ConsoleError(404, f"no such list {kind!r}: {', '.join(KINDS)}")
    return kind


async def _items(request: Request, kind: str) -> list[dict[str, Any]] | None:
    answer = await api(request, "GET", f"/api/v1/{kind}")
    return list(answer.body["items"]) if answer.ok else None


@router.get("/people", response_class=HTMLResponse)
async def people(request: Request, session: Sess) -> Response:
    lists = {kind: await _items(request, kind) for kind in KINDS}
    oncall = await api(request, "GET", "/api/v1/oncall")
    users = {u["id"]: u["name"] for u in lists["users"] or []}
    return render(
        request,
        "console/people.html",
        session,
        lists=lists,
        available=lists["users"] is not None,
        oncall=oncall.body["items"] if oncall.ok else [],
        users=users,
        groups={g["id"]: g["name"] for g in lists["groups"] or []},
        schedules={s["id"]: s["name"] for s in lists["schedules"] or []},
    )


def _editor(
    request: Request,
    session: Session,
    kind: str,
    item_id: int | None,
    text: str,
    error: str = "",
    notice: str = "",
    test_notice: str = "",
) -> Response:
    return render(
        request,
        "console/person_edit.html",
        session,
        status_code=422 if error else 200,
        kind=kind,
        label=KINDS[kind],
        item_id=item_id,
        text=text,
        error=error,
        notice=notice,
        test_notice=test_notice,
    )


@router.get("/people/{kind}/new", response_class=HTMLResponse)
async def new_item(request: Request, kind: str, session: Sess) -> Response:
    return _editor(request, session, _kind(kind), None, pretty_json(example(kind)))


PASSWORD_NOTICES = {"set": "Password set.", "removed": "Password removed."}


@router.get("/people/{kind}/{item_id}", response_class=HTMLResponse)
async def edit_item(
    request: Request, kind: str, item_id: int, session: Sess, notice: str = ""
) -> Response:
    item = await api_ok(request, "GET", f"/api/v1/{_kind(kind)}/{item_id}")
    item.pop("id", None)
    return _editor(
        request,
        session,
        kind,
        item_id,
        pretty_json(item),
        notice=PASSWORD_NOTICES.get(notice, ""),
    )


@router.post("/people/users/{item_id}/password")
async def set_password(request: Request, item_id: int, session: Sess) -> Response:
    form = await checked_form(request, session)
    password = form.get("password")
    body = {"password": password if isinstance(password, str) else ""}
    await api_ok(request, "POST", f"/api/v1/users/{item_id}/password", json=body)
    return see_other(f"/people/users/{item_id}?notice=set#password")


@router.post("/people/users/{item_id}/test-page")
async def send_test_page(request: Request, item_id: int, session: Sess) -> Response:
    """Page the person on every contact now, and show what each said."""
    await checked_form(request, session)
    answer = await api_ok(request, "POST", f"/api/v1/users/{item_id}/test-page")
    said = [
        f"{r['kind']} {r['contact']}: {r['status']}" + (f" ({r['error']})" if r["error"] else "")
        for r in answer["results"]
    ]
    item = await api_ok(request, "GET", f"/api/v1/users/{item_id}")
    item.pop("id", None)
    text = pretty_json(item)
    return _editor(request, session, "users", item_id, text, test_notice="; ".join(said))


@router.post("/people/users/{item_id}/password/remove")
async def remove_password(request: Request, item_id: int, session: Sess) -> Response:
    await checked_form(request, session)
    await api_ok(request, "DELETE", f"/api/v1/users/{item_id}/password")
    return see_other(f"/people/users/{item_id}?notice=removed#password")


async def _save(request: Request, kind: str, item_id: int | None, session: Session) -> Response:
    form = await checked_form(request, session)
    text = str(form.get("body") or "")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return _editor(request, session, kind, item_id, text, f"not valid JSON: {exc}")
    if item_id is None:
        answer = await api(request, "POST", f"/api/v1/{kind}", json=body)
    else:
        answer = await api(request, "PUT", f"/api/v1/{kind}/{item_id}", json=body)
    if not answer.ok:
        return _editor(request, session, kind, item_id, text, answer.error)
    return see_other("/people")


@router.post("/people/{kind}")
async def create_item(request: Request, kind: str, session: Sess) -> Response:
    return await _save(request, _kind(kind), None, session)


@router.post("/people/{kind}/{item_id}")
async def update_item(request: Request, kind: str, item_id: int, session: Sess) -> Response:
    return await _save(request, _kind(kind), item_id, session)


@router.post("/people/{kind}/{item_id}/delete")
async def delete_item(request: Request, kind: str, item_id: int, session: Sess) -> Response:
    await checked_form(request, session)
    await api_ok(request, "DELETE", f"/api/v1/{_kind(kind)}/{item_id}")
    return see_other("/people")
