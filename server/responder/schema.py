"""Integration columns of the responder loop (numbered in the core range: core tables)."""

from __future__ import annotations

from server.db.migrate import Migration, sql_step

RESPONDER_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        5,
        "integrations urgent policy",
        # The policy that pages instead of escalation_policy_id for urgent alerts (NULL: none).
        "ALTER TABLE integrations ADD COLUMN urgent_policy_id INTEGER",
    ),
    sql_step(
        6,
        "integrations close from source only",
        # 1: people may acknowledge, only the source's own close message closes.
        """ALTER TABLE integrations ADD COLUMN close_from_source_only INTEGER NOT NULL
           DEFAULT 0""",
    ),
    sql_step(
        150,  # after the escalation tables (100)
        "escalation policies ack timeout",
        "ALTER TABLE escalation_policies ADD COLUMN ack_timeout_s INTEGER",
    ),
)
