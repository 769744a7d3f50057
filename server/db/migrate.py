"""Numbered schema migrations, applied in order and recorded in `schema_migrations`.

Adding steps: define a tuple of `Migration` in your own module, e.g.

    # server/escalation_store.py
    ESCALATION_MIGRATIONS = (sql_step(100, "users", "CREATE TABLE users (...)"), ...)

and add it to `default_migrations()` with an import inside the function (no import cycle):

    from server.escalation_store import ESCALATION_MIGRATIONS
    return _ordered(CORE_MIGRATIONS, ESCALATION_MIGRATIONS)

Number ranges keep branches from colliding: core (this module) 1-99, escalation 100-199,
notifications 200-299, mqtt 300-399, console 400-499, extras 500-599. A step runs once, inside one
transaction with its record; never edit a released step, add a new one. A recorded number
whose name differs from the code's is refused (two branches picked the same number).
Every opener of the database (`alert-server run` and the offline CLI) applies them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from server.errors import AlertServerError

log = logging.getLogger("server.migrations")


class MigrationError(AlertServerError):
    """The migration list or the database's record of it is inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: `apply` runs inside an open transaction and must not commit."""

    number: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


def sql_step(number: int, name: str, *statements: str) -> Migration:
    """A step made of plain SQL statements."""

    def apply(db: sqlite_utils.Database) -> None:
        for statement in statements:
            db.execute(statement)

    return Migration(number, name, apply)


CORE_MIGRATIONS: tuple[Migration, ...] = (
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


def default_migrations() -> tuple[Migration, ...]:
    """Every step the server knows, in order (append other modules' tuples here)."""
    from server.console.sessions import CONSOLE_MIGRATIONS
    from server.escalation_store import ESCALATION_MIGRATIONS  # its module imports this one
    from server.extras_store import EXTRAS_MIGRATIONS
    from server.mqtt_queue import MQTT_MIGRATIONS
    from server.passwords import PASSWORD_MIGRATIONS
    from server.reports.schema import REPORTS_MIGRATIONS

    return _ordered(
        CORE_MIGRATIONS,
        REPORTS_MIGRATIONS,
        ESCALATION_MIGRATIONS,
        MQTT_MIGRATIONS,
        PASSWORD_MIGRATIONS,
        CONSOLE_MIGRATIONS,
        EXTRAS_MIGRATIONS,
    )


def _ordered(*groups: Iterable[Migration]) -> tuple[Migration, ...]:
    steps = sorted((m for group in groups for m in group), key=lambda m: m.number)
    seen: set[int] = set()
    for step in steps:
        if step.number in seen:
            raise MigrationError(f"two migration steps share number {step.number}")
        seen.add(step.number)
    return tuple(steps)


def migrate(db: sqlite_utils.Database, steps: Sequence[Migration]) -> list[int]:
    """Apply the steps not yet recorded; return the numbers applied now."""
    steps = _ordered(steps)
    db.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
            number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""
    )
    done = {int(r[0]): str(r[1]) for r in db.execute("SELECT number, name FROM schema_migrations")}
    applied: list[int] = []
    for step in steps:
        recorded = done.get(step.number)
        if recorded is not None:
            if recorded != step.name:
                raise MigrationError(
                    f"migration {step.number} is recorded as {recorded!r} but the code says "
                    f"{step.name!r}"
                )
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            step.apply(db)
            db.execute(
                "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                [step.number, step.name, datetime.now(UTC).isoformat()],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        log.info("applied migration %d %s", step.number, step.name)
        applied.append(step.number)
    return applied
