"""The durable queue of MQTT messages the server still has to publish (its schema and SQL).

Rows are written when an alert changes and deleted once the broker acknowledged them, so
nothing is lost while the broker is down or the server restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from server.db.engine import Database
from server.db.migrate import Migration, sql_step

MQTT_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        300,
        "mqtt_queue",
        """CREATE TABLE mqtt_queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            payload BLOB NOT NULL,
            retain INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
    ),
)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    topic: str
    payload: bytes
    retain: bool
    attempts: int


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    payload: bytes
    retain: bool


def insert(db: Database, messages: list[OutgoingMessage], now: datetime) -> None:
    """Add `messages` in order inside the caller's transaction (they commit with it)."""
    created = now.astimezone(UTC).isoformat()
    for m in messages:
        db.execute(
            "INSERT INTO mqtt_queue (topic, payload, retain, created_at) VALUES (?, ?, ?, ?)",
            [m.topic, m.payload, int(m.retain), created],
        )


def oldest(db: Database, limit: int = 100) -> list[QueuedMessage]:
    rows = db.execute(
        "SELECT id, topic, payload, retain, attempts FROM mqtt_queue ORDER BY id LIMIT ?", [limit]
    ).fetchall()
    return [QueuedMessage(int(r[0]), str(r[1]), bytes(r[2]), bool(r[3]), int(r[4])) for r in rows]


def remove(db: Database, message_id: int) -> None:
    db.execute("DELETE FROM mqtt_queue WHERE id = ?", [message_id])


def failed(db: Database, message_id: int, error: str) -> None:
    db.execute(
        "UPDATE mqtt_queue SET attempts = attempts + 1, last_error = ? WHERE id = ?",
        [error[:500], message_id],
    )


def pending(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM mqtt_queue").fetchone()[0])
