"""The inbound domain's schema steps (numbers and names as released; never edit one)."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        3,
        "inbound_messages",
        """CREATE TABLE inbound_messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT NOT NULL UNIQUE,
            integration_id INTEGER NOT NULL REFERENCES integrations(id),
            received_at TEXT NOT NULL,
            status TEXT NOT NULL,
            action TEXT NOT NULL,
            alert_id INTEGER,
            source_name TEXT,
            source_id TEXT,
            reason TEXT NOT NULL DEFAULT '',
            content_type TEXT NOT NULL DEFAULT '',
            raw_body BLOB NOT NULL,
            body_truncated INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            http_status INTEGER NOT NULL
        )""",
        """CREATE UNIQUE INDEX inbound_idempotency
            ON inbound_messages (integration_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL""",
        "CREATE INDEX inbound_by_integration ON inbound_messages (integration_id, seq)",
        "CREATE INDEX inbound_by_status ON inbound_messages (status, seq)",
    ),
)
