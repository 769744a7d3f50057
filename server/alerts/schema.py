"""The alerts domain's schema steps (numbers and names as released; never edit one)."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        2,
        "alerts",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            integration_id INTEGER NOT NULL REFERENCES integrations(id),
            source_name TEXT NOT NULL,
            source_id TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            opened_at TEXT NOT NULL,
            acknowledged_at TEXT,
            closed_at TEXT,
            updated_at TEXT NOT NULL,
            append_count INTEGER NOT NULL DEFAULT 0
        )""",
        # Dedupe lives in the database: one live alert per integration + source name + id.
        """CREATE UNIQUE INDEX alerts_one_live
            ON alerts (integration_id, source_name, source_id)
            WHERE status IN ('open', 'acknowledged')""",
        "CREATE INDEX alerts_by_status ON alerts (status, id)",
        """CREATE TABLE alert_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id INTEGER NOT NULL REFERENCES alerts(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            message_id TEXT
        )""",
        "CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id)",
    ),
)
