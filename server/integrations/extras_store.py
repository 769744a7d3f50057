"""SQL for maintenance windows, heartbeats and the reads behind a press's journey.

Runs on the server's database thread over the core store's connection (one writer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.alerts.model import NotFoundError, iso, parse_at
from server.db.engine import Database
from server.db.migrate import Migration, sql_step

# Extras own migration numbers 500-599.
EXTRAS_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        500,
        "maintenance windows and heartbeats",
        """CREATE TABLE maintenance_windows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            integration_id INTEGER NOT NULL REFERENCES integrations(id),
            start_at TEXT NOT NULL,
            end_at TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX maintenance_by_integration ON maintenance_windows (integration_id, end_at)",
        """CREATE TABLE heartbeats (
            integration_id INTEGER PRIMARY KEY REFERENCES integrations(id),
            interval_s REAL NOT NULL,
            grace_s REAL NOT NULL DEFAULT 0,
            last_ping_at TEXT,
            missed_at TEXT,
            created_at TEXT NOT NULL
        )""",
    ),
)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    id: int
    integration_id: int
    start_at: datetime
    end_at: datetime
    reason: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        """Whether `now` falls inside [start_at, end_at)."""
        return self.start_at <= now < self.end_at


@dataclass(frozen=True, slots=True)
class Heartbeat:
    integration_id: int
    name: str
    token: str
    interval_s: float
    grace_s: float
    last_ping_at: datetime | None
    missed_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One page sent (or tried) for an alert, with the person's name."""

    user_id: int
    user_name: str
    channel: str
    address: str
    status: str
    attempt: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _window(row: dict[str, Any]) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row["id"],
        integration_id=row["integration_id"],
        start_at=datetime.fromisoformat(row["start_at"]),
        end_at=datetime.fromisoformat(row["end_at"]),
        reason=row["reason"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _heartbeat(row: dict[str, Any]) -> Heartbeat:
    return Heartbeat(
        integration_id=row["integration_id"],
        name=row["name"],
        token=row["token"],
        interval_s=float(row["interval_s"]),
        grace_s=float(row["grace_s"]),
        last_ping_at=parse_at(row["last_ping_at"]),
        missed_at=parse_at(row["missed_at"]),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class ExtrasStore:
    """Typed access to the extras' tables; every write is one short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Windows not ended a day before they were read, by integration: every inbound message
        # asks (about its own receipt time, a moment ago), so they are read once and dropped on
        # every window write (all writes go through this store).
        self._live_windows: dict[int, list[MaintenanceWindow]] | None = None

    def _write(self, sql: str, params: list[Any]) -> list[Any]:
        """One write in its own transaction; the rows it returns (`RETURNING`), read inside it."""
        self._live_windows = None
        with self.db.transaction():
            cursor = self.db.execute(sql, params)
            return cursor.fetchall() if " RETURNING " in sql else []

    # ---- maintenance windows ---------------------------------------------------------------

    def add_window(
        self, integration_id: int, start_at: datetime, end_at: datetime, reason: str, now: datetime
    ) -> MaintenanceWindow:
        cursor = self._write(
            """INSERT INTO maintenance_windows (integration_id, start_at, end_at, reason,
               created_at) VALUES (?,?,?,?,?) RETURNING id""",
            [integration_id, iso(start_at), iso(end_at), reason, iso(now)],
        )
        return self.window(integration_id, int(cursor[0][0]))

    def window(self, integration_id: int, window_id: int) -> MaintenanceWindow:
        rows = list(
            self.db.query(
                "SELECT * FROM maintenance_windows WHERE id = ? AND integration_id = ?",
                [window_id, integration_id],
            )
        )
        if not rows:
            raise NotFoundError(
                f"maintenance window {window_id} of integration {integration_id} does not exist"
            )
        return _window(rows[0])

    def windows(self, integration_id: int | None = None) -> list[MaintenanceWindow]:
        """Windows by start, for one integration or all."""
        where, params = (
            ("", []) if integration_id is None else ("WHERE integration_id = ?", [integration_id])
        )
        rows = self.db.query(
            f"SELECT * FROM maintenance_windows {where} ORDER BY start_at, id", params
        )
        return [_window(r) for r in rows]

    def update_window(
        self, window: MaintenanceWindow, start_at: datetime, end_at: datetime, reason: str
    ) -> MaintenanceWindow:
        self._write(
            "UPDATE maintenance_windows SET start_at = ?, end_at = ?, reason = ? WHERE id = ?",
            [iso(start_at), iso(end_at), reason, window.id],
        )
        return self.window(window.integration_id, window.id)

    def delete_window(self, integration_id: int, window_id: int) -> None:
        self.window(integration_id, window_id)
        self._write("DELETE FROM maintenance_windows WHERE id = ?", [window_id])

    def in_window(self, integration_id: int, now: datetime) -> bool:
        """Whether a window of this integration covers `now` (stored times are UTC ISO)."""
        if self._live_windows is None:
            live: dict[int, list[MaintenanceWindow]] = {}
            since = iso(now - timedelta(days=1))
            rows = self.db.query("SELECT * FROM maintenance_windows WHERE end_at > ?", [since])
            for window in map(_window, rows):
                live.setdefault(window.integration_id, []).append(window)
            self._live_windows = live
        return any(w.active(now) for w in self._live_windows.get(integration_id, ()))

    # ---- heartbeats ------------------------------------------------------------------------

    def add_heartbeat(
        self, integration_id: int, interval_s: float, grace_s: float, now: datetime
    ) -> Heartbeat:
        self._write(
            """INSERT INTO heartbeats (integration_id, interval_s, grace_s, created_at)
               VALUES (?,?,?,?)""",
            [integration_id, interval_s, grace_s, iso(now)],
        )
        return self.heartbeat(integration_id)

    _HEARTBEATS = """SELECT h.*, i.name, i.token FROM heartbeats h
        JOIN integrations i ON i.id = h.integration_id WHERE i.deleted_at IS NULL"""

    def heartbeat(self, integration_id: int) -> Heartbeat:
        rows = list(self.db.query(self._HEARTBEATS + " AND h.integration_id = ?", [integration_id]))
        if not rows:
            raise NotFoundError(f"heartbeat {integration_id} does not exist")
        return _heartbeat(rows[0])

    def heartbeats(self) -> list[Heartbeat]:
        return [
            _heartbeat(r) for r in self.db.query(self._HEARTBEATS + " ORDER BY h.integration_id")
        ]

    def set_ping(self, integration_id: int, at: datetime) -> None:
        """A ping arrived: remember it and clear the missed mark."""
        self._write(
            "UPDATE heartbeats SET last_ping_at = ?, missed_at = NULL WHERE integration_id = ?",
            [iso(at), integration_id],
        )

    def set_missed(self, integration_id: int, at: datetime) -> None:
        self._write(
            "UPDATE heartbeats SET missed_at = ? WHERE integration_id = ?",
            [iso(at), integration_id],
        )

    # ---- journey reads ---------------------------------------------------------------------

    def opening_message(self, alert_id: int) -> dict[str, Any] | None:
        """The inbound message that opened an alert (with its raw body), if any."""
        rows = list(
            self.db.query(
                """SELECT m.message_id, m.received_at, m.raw_body, m.content_type
                   FROM alert_events e JOIN inbound_messages m ON m.message_id = e.message_id
                   WHERE e.alert_id = ? AND e.kind = 'open' ORDER BY e.id LIMIT 1""",
                [alert_id],
            )
        )
        return rows[0] if rows else None

    def pages(self, alert_id: int) -> list[PageRecord]:
        """Pages queued for an alert (empty when escalation is not installed)."""
        try:
            rows = list(
                self.db.query(
                    """SELECT n.*, u.name AS user_name FROM notification_attempts n
                       LEFT JOIN users u ON u.id = n.user_id WHERE n.alert_id = ? ORDER BY n.id""",
                    [alert_id],
                )
            )
        except self.db.errors:  # no escalation tables in this server
            return []
        return [_page(r) for r in rows]


def _page(row: dict[str, Any]) -> PageRecord:
    contacts = json.loads(row["contacts"])
    kind, channel, address = contacts[row["contact_index"]]
    return PageRecord(
        user_id=row["user_id"],
        user_name=row["user_name"] or f"user {row['user_id']}",
        channel=str(channel or kind),
        address=str(address),
        status=row["status"],
        attempt=int(row["attempt"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        sent_at=parse_at(row["sent_at"]),
        last_error=row["last_error"],
    )
