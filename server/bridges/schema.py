"""The `bridges` table: one row per bridge name, its last report and whether it went silent."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

# Bridges own migration numbers 600-699.
BRIDGES_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        600,
        "bridges reporting in",
        """CREATE TABLE bridges (
            name TEXT PRIMARY KEY,
            first_report_at TEXT NOT NULL,
            last_report_at TEXT NOT NULL,
            status TEXT NOT NULL,
            buttons INTEGER NOT NULL,
            outbox_pending INTEGER NOT NULL,
            report TEXT NOT NULL,
            silent_at TEXT
        )""",
    ),
)
