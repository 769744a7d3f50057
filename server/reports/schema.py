"""The alert columns reports need: priority, drill, and an index on the opening time."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

PRIORITIES = ("urgent", "high", "normal", "low")

# Number 4 sits in the core (alerts) range: these are columns of the core alerts table.
REPORTS_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        4,
        "alerts priority and drill",
        """ALTER TABLE alerts ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal'
            CHECK (priority IN ('urgent', 'high', 'normal', 'low'))""",
        "ALTER TABLE alerts ADD COLUMN drill INTEGER NOT NULL DEFAULT 0",
        # Reports read a time range of alerts: opened_at first, the grouping columns beside.
        "CREATE INDEX alerts_by_opened ON alerts (opened_at)",
    ),
)
