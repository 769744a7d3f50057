"""Rows of the inbound pipeline as frozen dataclasses, plus token helpers (no SQL here)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.alerts.events import AlertChange
from server.errors import AlertServerError

TOKEN_BYTES = 24  # 192 bits


class NotFoundError(AlertServerError):
    """No such row."""


class ConflictError(AlertServerError):
    """The change is not possible in the row's current state."""


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def parse_at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def new_token() -> str:
    """An unguessable inbound token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Integration:
    id: int
    name: str
    kind: str
    token: str
    mapping: dict[str, Any]
    sample_data: Any
    escalation_policy_id: int | None
    maintenance_until: datetime | None
    created_at: datetime
    updated_at: datetime
    urgent_policy_id: int | None = None  # pages instead of the policy for urgent alerts
    close_from_source_only: bool = False  # people acknowledge; only the source closes

    @property
    def inbound_path(self) -> str:
        return f"/inbound/{self.token}"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """What arrived, before it is judged."""

    integration_id: int
    received_at: datetime
    raw_body: bytes
    content_type: str
    idempotency_key: str | None = None
    body_truncated: bool = False


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    """The stored answer to one message (replayed verbatim for a repeated Idempotency-Key)."""

    message_id: str
    status: str
    action: str
    alert_id: int | None
    reason: str
    http_status: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class InboundResult:
    outcome: InboundOutcome
    changes: tuple[AlertChange, ...]


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    integration_id: int
    source_name: str
    source_id: str
    status: str
    title: str
    description: str
    opened_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    append_count: int
    priority: str = "normal"  # urgent | high | normal | low
    drill: bool = False  # opened by a drill: pages as usual, reported apart


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    detail: str
    message_id: str | None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def integration_from_row(row: dict[str, Any]) -> Integration:
    return Integration(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        token=row["token"],
        mapping=json.loads(row["mapping"]),
        sample_data=None if row["sample_data"] is None else json.loads(row["sample_data"]),
        escalation_policy_id=row["escalation_policy_id"],
        urgent_policy_id=row.get("urgent_policy_id"),
        close_from_source_only=bool(row.get("close_from_source_only") or 0),
        maintenance_until=parse_at(row["maintenance_until"]),
        created_at=_at(row["created_at"]),
        updated_at=_at(row["updated_at"]),
    )


def alert_from_row(row: dict[str, Any]) -> Alert:
    return Alert(
        id=row["id"],
        integration_id=row["integration_id"],
        source_name=row["source_name"],
        source_id=row["source_id"],
        status=row["status"],
        title=row["title"],
        description=row["description"],
        opened_at=_at(row["opened_at"]),
        acknowledged_at=parse_at(row["acknowledged_at"]),
        closed_at=parse_at(row["closed_at"]),
        append_count=row["append_count"],
        priority=row.get("priority") or "normal",
        drill=bool(row.get("drill") or 0),
    )
