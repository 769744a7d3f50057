"""SQL for the `bridges` table (runs on the server's database thread, one writer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.alerts.model import iso, parse_at
from server.db.engine import Database


@dataclass(frozen=True, slots=True)
class BridgeReport:
    """What one report says (the body of `POST /api/v1/bridges`, validated)."""

    name: str
    status: str
    buttons: int
    outbox_pending: int
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Bridge:
    name: str
    first_report_at: datetime
    last_report_at: datetime
    status: str
    buttons: int
    outbox_pending: int
    report: dict[str, Any]
    silent_at: datetime | None


def _bridge(row: dict[str, Any]) -> Bridge:
    return Bridge(
        name=row["name"],
        first_report_at=datetime.fromisoformat(row["first_report_at"]),
        last_report_at=datetime.fromisoformat(row["last_report_at"]),
        status=row["status"],
        buttons=int(row["buttons"]),
        outbox_pending=int(row["outbox_pending"]),
        report=json.loads(row["report"]),
        silent_at=parse_at(row["silent_at"]),
    )


class BridgesStore:
    """Typed access to `bridges`; every write is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def bridges(self) -> list[Bridge]:
        return [_bridge(r) for r in self.db.query("SELECT * FROM bridges ORDER BY name")]

    def bridge(self, name: str) -> Bridge | None:
        rows = list(self.db.query("SELECT * FROM bridges WHERE name = ?", [name]))
        return _bridge(rows[0]) if rows else None

    def report(self, report: BridgeReport, at: datetime) -> Bridge | None:
        """Store a report; return the row as it was before (None: a new bridge)."""
        with self.db.transaction():
            before = self.bridge(report.name)
            self.db.execute(
                """INSERT INTO bridges (name, first_report_at, last_report_at, status, buttons,
                       outbox_pending, report, silent_at) VALUES (?,?,?,?,?,?,?,NULL)
                   ON CONFLICT (name) DO UPDATE SET last_report_at = excluded.last_report_at,
                       status = excluded.status, buttons = excluded.buttons,
                       outbox_pending = excluded.outbox_pending, report = excluded.report,
                       silent_at = NULL""",
                [
                    report.name,
                    iso(at),
                    iso(at),
                    report.status,
                    report.buttons,
                    report.outbox_pending,
                    json.dumps(report.detail),
                ],
            )
        return before

    def set_silent(self, name: str, at: datetime) -> bool:
        """Mark a bridge silent once (False: it was already, or it reported meanwhile)."""
        with self.db.transaction():
            cursor = self.db.execute(
                "UPDATE bridges SET silent_at = ? WHERE name = ? AND silent_at IS NULL",
                [iso(at), name],
            )
        return bool(cursor.rowcount)
