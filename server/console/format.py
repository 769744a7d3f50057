"""Jinja filters for the console: ages, times, inbound-log status labels, JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment

STATUS_LABELS = {
    "mapped": "Mapped",
    "mapped_appended": "Mapped Appended",
    "mapped_ignored": "Mapped Ignored",
    "mapping_failed": "Mapping Failed",
    "filtered": "Filtered",
    "suppressed": "Suppressed",
}


def as_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime or an ISO 8601 string (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        found = value
    else:
        try:
            found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def age(value: Any, now: datetime) -> str:
    """How long ago, short: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    at = as_datetime(value)
    if at is None:
        return ""
    seconds = max(0, int((now - at).total_seconds()))
    return duration(seconds)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(value: Any) -> str:
    """A timestamp as `2026-11-26 07:00:00 UTC`."""
    at = as_datetime(value)
    return "" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


JOURNEY_LABELS = {
    "pressed": "Pressed (on the button)",
    "received_by_bridge": "Received by the bridge",
    "stored": "Stored",
    "delivered": "Delivered",
    "received_by_server": "Received by the server",
    "paged": "Paged",
    "acknowledged": "Acknowledged",
}


def journey_label(step: Any) -> str:
    return JOURNEY_LABELS.get(str(step), str(step).replace("_", " ").capitalize())


def status_label(status: Any) -> str:
    return STATUS_LABELS.get(str(status), str(status).replace("_", " ").title())


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def register_filters(env: Environment) -> None:
    env.filters["age"] = age
    env.filters["duration"] = duration
    env.filters["when"] = when
    env.filters["status_label"] = status_label
    env.filters["journey_label"] = journey_label
    env.filters["pretty_json"] = pretty_json
