"""A press's journey: from the button to the person who acknowledged it, for one alert.

`build_journey` is pure: the alert, its timeline, the message that opened it (with the
bridge's body: `pressed_at`, `received_at`, `stored_at`, `attempt`) and the pages sent give
the steps in order. Fields the sender did not provide (a non-bridge sender) are null.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.alerts.model import Alert, TimelineEntry
from server.integrations.extras_store import ExtrasStore, PageRecord


def _at(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _body(raw: Any) -> dict[str, Any]:
    try:
        found = json.loads(bytes(raw)) if raw is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


def build_journey(
    alert: Alert,
    timeline: list[TimelineEntry],
    opening: dict[str, Any] | None,
    pages: list[PageRecord],
) -> dict[str, Any]:
    """The journey as `GET /api/v1/alerts/{id}` shows it."""
    body = _body(None if opening is None else opening.get("raw_body"))
    server_at = None if opening is None else _at(opening.get("received_at"))
    attempt = body.get("attempt")
    attempts = attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None
    ack = next((e for e in timeline if e.kind == "acknowledge"), None)
    paged = [
        {
            "who": p.user_name,
            "user_id": p.user_id,
            "how": p.channel,
            "address": p.address,
            "status": p.status,
            "attempts": p.attempt,
            "queued_at": p.created_at,
            "at": p.sent_at,
            "error": p.last_error,
        }
        for p in pages
    ]
    steps: list[dict[str, Any]] = []

    def step(name: str, at: datetime | None, detail: str) -> None:
        steps.append({"step": name, "at": at, "detail": detail})

    button = body.get("flic_nameId")
    queued = " (queued on the button)" if body.get("queued") is True else ""
    pressed = f"{button or '?'} {body.get('click_type') or ''}{queued}".strip()
    step("pressed", _at(body.get("pressed_at")), pressed)
    step("received_by_bridge", _at(body.get("received_at")), str(body.get("bridge") or ""))
    step("stored", _at(body.get("stored_at")), "on the bridge's disk (outbox)")
    step(
        "delivered",
        server_at,
        "" if attempts is None else f"delivered on attempt {attempts}",
    )
    step("received_by_server", server_at, "" if opening is None else str(opening["message_id"]))
    for page in pages:
        step(
            "paged",
            page.sent_at or page.created_at,
            f"{page.user_name} by {page.channel} ({page.status})",
        )
    step("acknowledged", alert.acknowledged_at, "" if ack is None else ack.detail)
    return {
        "event_id": body.get("event_id"),
        "message_id": None if opening is None else opening["message_id"],
        "button": button,
        "source": body.get("source"),
        "bridge": body.get("bridge"),
        "pressed_at": _at(body.get("pressed_at")),
        "bridge_received_at": _at(body.get("received_at")),
        "stored_at": _at(body.get("stored_at")),
        "delivery_attempts": attempts,
        "server_received_at": server_at,
        "paged": paged,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": None if ack is None else ack.detail,
        "steps": steps,
    }


def read_journey(store: ExtrasStore, alert: Alert, timeline: list[TimelineEntry]) -> dict[str, Any]:
    """Read what the journey needs (on the database thread) and build it."""
    return build_journey(alert, timeline, store.opening_message(alert.id), store.pages(alert.id))
