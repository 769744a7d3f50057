"""The integrations domain's schema steps (numbers and names as released; never edit one)."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        1,
        "integrations",
        """CREATE TABLE integrations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            token TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            mapping TEXT NOT NULL,
            sample_data TEXT,
            escalation_policy_id INTEGER,
            maintenance_until TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT
        )""",
    ),
)
