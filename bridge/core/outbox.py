"""The durable outbox: every click is on disk before anything else, one row per (click, target).

SQLite in the state dir, WAL with synchronous=FULL, so a committed click survives a power cut.
Rows of one button leave for one target strictly in the order pressed; a permanently refused
row becomes a dead letter (shown everywhere, put back with `retry`), never dropped silently.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.core.outbox_schema import SCHEMA as _SCHEMA
from bridge.errors import BridgeError
from bridge.models import ClickEvent

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATES = (PENDING, DELIVERED, DEAD)


class OutboxError(BridgeError):
    """The outbox database cannot be opened or written."""


@dataclass(frozen=True, slots=True)
class Due:
    """A pending row at the head of its button's line for one target."""

    seq: int
    event_id: str
    target: str
    button_address: str
    attempts: int
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One (click, target) row, for listings."""

    event_id: str
    target: str
    state: str
    attempts: int
    button_name: str
    button_address: str
    click_type: str
    source: str
    queued: bool
    pressed_at: datetime
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    oldest_age_s: float | None
    delivered: int
    dead: int


def _ts(at: datetime) -> float:
    return at.timestamp()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Outbox:
    """The one writer of `outbox.sqlite3`; other processes (the CLI) may read and retry."""

    def __init__(self, path: Path, *, max_clicks: int | None = None) -> None:
        self.path = path
        self.max_clicks = max_clicks  # None: no cap (the CLI, which only reads and retries)
        self._full = False  # over the cap with nothing delivered left to forget
        self.forgotten = 0  # delivered clicks forgotten to stay under the cap, this run
        self._count: int | None = None  # stored clicks (an upper bound: the CLI may purge)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open outbox {path}: {exc}") from exc

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, max_clicks: int | None = None) -> Outbox:
        """The outbox of a bridge whose state lives in `state_dir`."""
        return cls(state_dir / "outbox.sqlite3", max_clicks=max_clicks)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox write failed: {exc}") from exc

    def enqueue(
        self,
        event: ClickEvent,
        body: Mapping[str, Any] | None,
        targets: Sequence[str],
        now: datetime,
    ) -> bool:
        """Store a click and its rows; False (and nothing changes) when its event_id is stored.

        At the cap, the oldest fully delivered clicks are forgotten first; pending and dead
        ones never are, so a click is stored even when they alone fill it (`is_full`).
        """
        if self.max_clicks is not None:
            self._make_room(self.max_clicks)
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO events (event_id, button_address, button_name, click_type,"
                " source, queued, pressed_ts, created_ts, body) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    event.event_id,
                    event.button_address,
                    event.button_name,
                    event.click_type.value,
                    event.source,
                    int(event.queued),
                    _ts(event.pressed_at),
                    _ts(now),
                    None if body is None else json.dumps(body),
                ),
            )
            if cur.rowcount == 0:
                return False
            if self._count is not None:
                self._count += 1
            seq = cur.lastrowid
            if body is not None:
                db.executemany(
                    "INSERT INTO deliveries (seq, target, state, next_ts, updated_ts)"
                    " VALUES (?,?,?,?,?)",
                    [(seq, target, PENDING, _ts(now), _ts(now)) for target in targets],
                )
        return True

    def _make_room(self, cap: int) -> None:
        if self._count is not None and self._count < cap:
            return
        (self._count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        if self._count < cap:
            self._set_full(False, cap)
            return
        # Down to 99% of the cap, so a full outbox is not trimmed on every single click.
        excess = self._count - cap + 1 + cap // 100
        with self._write() as db:
            seqs = [
                (seq,)
                for (seq,) in db.execute(
                    "SELECT seq FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d"
                    " WHERE d.seq = e.seq AND d.state != 'delivered') ORDER BY seq LIMIT ?",
                    (excess,),
                )
            ]
            db.executemany("DELETE FROM deliveries WHERE seq = ?", seqs)
            db.executemany("DELETE FROM events WHERE seq = ?", seqs)
        self._count -= len(seqs)
        self.forgotten += len(seqs)
        if seqs:
            log.warning(
                "outbox: at its cap of %d clicks ([limits] max_outbox_clicks): forgot the %d"
                " oldest delivered",
                cap,
                len(seqs),
            )
        self._set_full(self._count >= cap, cap)

    def _set_full(self, full: bool, cap: int) -> None:
        if full and not self._full:
            log.error(
                "outbox FULL: %d clicks stored, all pending or dead, over the cap of %d"
                " ([limits] max_outbox_clicks): new clicks are still stored, nothing is"
                " dropped; bring the targets back or deal with the dead letters"
                " (`flic-bridge outbox`)",
                self._count,
                cap,
            )
        elif self._full and not full:
            log.info("outbox: below its cap of %d clicks again", cap)
        self._full = full

    def is_full(self) -> bool:
        """At the cap with only pending and dead clicks (none delivered to forget for room)."""
        if not self._full:
            return False
        (forgettable,) = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d"
            " WHERE d.seq = e.seq AND d.state != 'delivered'))"
        ).fetchone()
        return not forgettable

    def has_event(self, event_id: str) -> bool:
        """Whether a click with this event_id is stored."""
        row = self._db.execute("SELECT 1 FROM events WHERE event_id = ?", (event_id,)).fetchone()
        return row is not None

    def _heads(self, target: str) -> list[sqlite3.Row]:
        self._db.row_factory = sqlite3.Row
        try:
            return list(
                self._db.execute(
                    "SELECT d.seq, e.event_id, e.button_address, e.body, d.attempts, d.next_ts"
                    " FROM deliveries d JOIN events e ON e.seq = d.seq"
                    " WHERE d.target = ? AND d.state = 'pending' AND d.seq IN ("
                    "   SELECT MIN(d2.seq) FROM deliveries d2 JOIN events e2 ON e2.seq = d2.seq"
                    "   WHERE d2.target = ? AND d2.state = 'pending' GROUP BY e2.button_address)"
                    " ORDER BY d.seq",
                    (target, target),
                )
            )
        finally:
            self._db.row_factory = None

    def due(self, target: str, now: datetime) -> list[Due]:
        """The head row of every button's line for `target` whose retry time has come."""
        return [
            Due(
                seq=row["seq"],
                event_id=row["event_id"],
                target=target,
                button_address=row["button_address"],
                attempts=row["attempts"],
                body=json.loads(row["body"]),
            )
            for row in self._heads(target)
            if row["next_ts"] <= _ts(now)
        ]

    def next_due_at(self, target: str) -> datetime | None:
        """When the earliest head row for `target` may be tried again (None: nothing pending)."""
        heads = self._heads(target)
        return _at(min(row["next_ts"] for row in heads)) if heads else None

    def mark_delivered(self, seq: int, target: str, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_ts = ?,"
                " last_error = NULL WHERE seq = ? AND target = ?",
                (DELIVERED, _ts(now), seq, target),
            )

    def mark_failed(
        self, seq: int, target: str, now: datetime, error: str, next_at: datetime
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, updated_ts = ?, last_error = ?,"
                " next_ts = ? WHERE seq = ? AND target = ? AND state = ?",
                (_ts(now), error, _ts(next_at), seq, target, PENDING),
            )

    def mark_dead(self, seq: int, target: str, now: datetime, error: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_ts = ?,"
                " last_error = ? WHERE seq = ? AND target = ?",
                (DEAD, _ts(now), error, seq, target),
            )

    def expedite(self, target: str, now: datetime) -> int:
        """Make every pending row of `target` due now (the target answered again)."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE deliveries SET next_ts = ? WHERE target = ? AND state = ? AND next_ts > ?",
                (_ts(now), target, PENDING, _ts(now)),
            )
            return cur.rowcount

    def retry_dead(self, now: datetime, target: str | None = None) -> int:
        """Put dead rows back in line for another try; returns how many."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE deliveries SET state = ?, attempts = 0, next_ts = ?, updated_ts = ?"
                " WHERE state = ? AND (? IS NULL OR target = ?)",
                (PENDING, _ts(now), _ts(now), DEAD, target, target),
            )
            return cur.rowcount

    def purge(self, now: datetime, *, older_than_s: float = 0.0, dead: bool = False) -> int:
        """Delete delivered rows (and dead ones with `dead`) older than `older_than_s`."""
        states = (DELIVERED, DEAD) if dead else (DELIVERED,)
        cutoff = _ts(now) - older_than_s
        with self._write() as db:
            marks = ",".join("?" for _ in states)
            cur = db.execute(
                f"DELETE FROM deliveries WHERE state IN ({marks}) AND updated_ts <= ?",
                (*states, cutoff),
            )
            removed = cur.rowcount
            db.execute(
                "DELETE FROM events WHERE created_ts <= ? AND seq NOT IN"
                " (SELECT seq FROM deliveries)",
                (cutoff,),
            )
        return removed

    def rows(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Rows newest first, optionally only those in `state`."""
        self._db.row_factory = sqlite3.Row
        try:
            found = list(
                self._db.execute(
                    "SELECT e.*, d.target, d.state, d.attempts, d.next_ts, d.updated_ts,"
                    " d.last_error FROM deliveries d JOIN events e ON e.seq = d.seq"
                    " WHERE (? IS NULL OR d.state = ?) ORDER BY d.seq DESC, d.target LIMIT ?",
                    (state, state, limit),
                )
            )
        finally:
            self._db.row_factory = None
        return [
            OutboxRow(
                event_id=r["event_id"],
                target=r["target"],
                state=r["state"],
                attempts=r["attempts"],
                button_name=r["button_name"],
                button_address=r["button_address"],
                click_type=r["click_type"],
                source=r["source"],
                queued=bool(r["queued"]),
                pressed_at=_at(r["pressed_ts"]),
                created_at=_at(r["created_ts"]),
                updated_at=_at(r["updated_ts"]),
                next_attempt_at=_at(r["next_ts"]) if r["state"] == PENDING else None,
                last_error=r["last_error"],
            )
            for r in found
        ]

    def stats(self, now: datetime, target: str | None = None) -> OutboxStats:
        """Counts by state and the age of the oldest pending row (all targets, or one)."""
        counts = dict.fromkeys(STATES, 0)
        for state, count in self._db.execute(
            "SELECT state, COUNT(*) FROM deliveries WHERE (? IS NULL OR target = ?) GROUP BY state",
            (target, target),
        ):
            counts[state] = count
        (oldest,) = self._db.execute(
            "SELECT MIN(e.created_ts) FROM deliveries d JOIN events e ON e.seq = d.seq"
            " WHERE d.state = 'pending' AND (? IS NULL OR d.target = ?)",
            (target, target),
        ).fetchone()
        return OutboxStats(
            pending=counts[PENDING],
            oldest_age_s=None if oldest is None else max(0.0, _ts(now) - oldest),
            delivered=counts[DELIVERED],
            dead=counts[DEAD],
        )

    def targets(self) -> list[str]:
        """Every target named by a stored row."""
        return [t for (t,) in self._db.execute("SELECT DISTINCT target FROM deliveries")]
