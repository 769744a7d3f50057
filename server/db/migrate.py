"""Numbered schema migrations, applied in order and recorded in `schema_migrations`.

The machinery only. Each domain owns its steps (`server/<domain>/schema.py` exports
`MIGRATIONS`, or the store module's `*_MIGRATIONS`), and `server.app.schema.all_migrations()`
lists them all; `alert-server run` and the offline CLI both open the database with that list.

Number ranges keep branches from colliding: core (integrations 1, alerts 2, inbound 3,
reports 4) 1-99, escalation 100-199, notifications 200-299, mqtt 300-399, console 400-499,
extras 500-599. A step runs once, inside one transaction with its record; never edit a released
step, add a new one. A recorded number
whose name differs from the code's is refused (two branches picked the same number).
Every opener of the database (`alert-server run` and the offline CLI) applies them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from server.db.engine import Database
from server.errors import AlertServerError

log = logging.getLogger("server.migrations")


class MigrationError(AlertServerError):
    """The migration list or the database's record of it is inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: `apply` runs inside an open transaction and must not commit."""

    number: int
    name: str
    apply: Callable[[Database], None]


def sql_step(number: int, name: str, *statements: str) -> Migration:
    """A step made of plain SQL statements."""

    def apply(db: Database) -> None:
        for statement in statements:
            db.execute(statement)

    return Migration(number, name, apply)


def ordered(*groups: Iterable[Migration]) -> tuple[Migration, ...]:
    steps = sorted((m for group in groups for m in group), key=lambda m: m.number)
    seen: set[int] = set()
    for step in steps:
        if step.number in seen:
            raise MigrationError(f"two migration steps share number {step.number}")
        seen.add(step.number)
    return tuple(steps)


def migrate(db: Database, steps: Sequence[Migration]) -> list[int]:
    """Apply the steps not yet recorded; return the numbers applied now.

    Under the database's migration lock (PostgreSQL: an advisory lock), so when two servers
    start together on an older schema one migrates it and the other finds it done.
    """
    steps = ordered(steps)
    with db.migration_lock():
        db.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""
        )
        done = {
            int(r[0]): str(r[1]) for r in db.execute("SELECT number, name FROM schema_migrations")
        }
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
            with db.transaction():
                step.apply(db)
                db.execute(
                    "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                    [step.number, step.name, datetime.now(UTC).isoformat()],
                )
            log.info("applied migration %d %s", step.number, step.name)
            applied.append(step.number)
    return applied
