"""SQL for escalation: the schema (people included), escalation state, notification attempts.

People, schedules and policies live in `server.escalation.people`, which this store extends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from server.alerts.model import Alert, NotFoundError
from server.db.engine import Database
from server.db.migrate import Migration, sql_step
from server.escalation.machine import EscalationState
from server.escalation.people import PeopleStore, iso, parse_iso
from server.notify.contacts import Contact

# The schema as released in migration 100 (`IF NOT EXISTS` is history: only it runs this).
SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone TEXT,
        contacts TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS user_groups (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, members TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS schedules (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT NOT NULL,
        rotations TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS schedule_overrides (
        id INTEGER PRIMARY KEY, schedule_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
        start_at TEXT NOT NULL, end_at TEXT NOT NULL, replaces INTEGER)""",
    """CREATE INDEX IF NOT EXISTS schedule_overrides_schedule
        ON schedule_overrides(schedule_id)""",
    """CREATE TABLE IF NOT EXISTS escalation_policies (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, steps TEXT NOT NULL,
        repeat INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS escalations (
        alert_id INTEGER PRIMARY KEY, policy_id INTEGER NOT NULL, status TEXT NOT NULL,
        step INTEGER NOT NULL, cycle INTEGER NOT NULL, next_at TEXT,
        paged_in_cycle INTEGER NOT NULL DEFAULT 0, reason TEXT, started_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS escalations_due ON escalations(status, next_at)",
    """CREATE TABLE IF NOT EXISTS notification_attempts (
        id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
        step INTEGER NOT NULL, cycle INTEGER NOT NULL, contacts TEXT NOT NULL,
        contact_index INTEGER NOT NULL, tried TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL, next_attempt_at TEXT, last_error TEXT,
        created_at TEXT NOT NULL, sent_at TEXT)""",
    """CREATE INDEX IF NOT EXISTS notification_attempts_due
        ON notification_attempts(status, next_attempt_at)""",
    """CREATE INDEX IF NOT EXISTS notification_attempts_alert
        ON notification_attempts(alert_id)""",
)

# Escalation owns migration numbers 100-199.
ESCALATION_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(100, "escalation people, schedules, policies, state", *SCHEMA),
)


@dataclass(frozen=True, slots=True)
class AlertView:
    """What escalation needs to know of an alert."""

    id: int
    status: str
    title: str
    description: str
    priority: str = "normal"
    drill: bool = False


@dataclass(frozen=True, slots=True)
class Notification:
    """One page to one person, currently aimed at `contacts[contact_index]`."""

    id: int
    alert_id: int
    user_id: int
    step: int
    cycle: int
    contacts: tuple[Contact, ...]
    contact_index: int
    tried: frozenset[int]
    attempt: int
    status: str
    next_attempt_at: datetime | None
    last_error: str | None

    @property
    def contact(self) -> Contact:
        """The contact this attempt goes to."""
        return self.contacts[self.contact_index]


def _contacts_json(contacts: tuple[Contact, ...]) -> str:
    return json.dumps([[c.kind, c.channel, c.address] for c in contacts])


class EscalationStore(PeopleStore):
    """People (inherited), escalation state and notification attempts."""

    # --- escalation state ---------------------------------------------------------------

    def forget_escalation(self, db: Database, alert_id: int) -> None:
        """Drop an alert's escalation state (inside a transaction), so it can start afresh."""
        db.execute("DELETE FROM escalations WHERE alert_id=?", (alert_id,))

    def save_escalation(self, db: Database, state: EscalationState, now: datetime) -> None:
        """Insert or update one alert's escalation state inside a transaction."""
        db.execute(
            _INSERT_ESCALATION
            + " ON CONFLICT(alert_id) DO UPDATE SET status=excluded.status, step=excluded.step,"
            " cycle=excluded.cycle, next_at=excluded.next_at,"
            " paged_in_cycle=excluded.paged_in_cycle, reason=excluded.reason",
            _escalation_row(state, now),
        )

    def start_escalation(self, db: Database, state: EscalationState, now: datetime) -> bool:
        """Record a new escalation (inside a transaction); False when the alert has one already
        (another server, or a second call, started it first)."""
        cur = db.execute(
            _INSERT_ESCALATION + " ON CONFLICT(alert_id) DO NOTHING",
            _escalation_row(state, now),
        )
        return cur.rowcount == 1

    def escalation(self, alert_id: int) -> EscalationState | None:
        """One alert's escalation state or None."""
        rows = self._rows("SELECT * FROM escalations WHERE alert_id=?", (alert_id,))
        return _escalation(rows[0]) if rows else None

    def has_work(self, alert_id: int) -> bool:
        """Whether this alert has an active escalation or a page not yet sent."""
        rows = self._rows(
            "SELECT EXISTS(SELECT 1 FROM escalations WHERE alert_id=? AND status='active')"
            " OR EXISTS(SELECT 1 FROM notification_attempts WHERE alert_id=? AND status='pending')"
            " AS busy",
            (alert_id, alert_id),
        )
        return bool(rows[0]["busy"])

    def due_escalations(self, now: datetime) -> list[EscalationState]:
        """Active escalations whose next step is due at `now`."""
        rows = self._rows(
            "SELECT * FROM escalations WHERE status='active' AND next_at <= ? ORDER BY next_at",
            (iso(now),),
        )
        return [_escalation(r) for r in rows]

    def claim_due(self, db: Database, alert_id: int, now: datetime) -> EscalationState | None:
        """Lock one escalation whose step is due (inside a transaction); None when it is not.

        On PostgreSQL the row is taken `FOR UPDATE SKIP LOCKED`: when another server is running
        this step this one skips it, and once that server committed the step is no longer due.
        The pages the step queues are inserted in the same transaction, so a step runs once.
        """
        lock = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
        rows = list(
            db.query(
                "SELECT * FROM escalations WHERE alert_id=? AND status='active' AND next_at <= ?"
                + lock,
                (alert_id, iso(now)),
            )
        )
        return _escalation(rows[0]) if rows else None

    def integrations_using(self, policy_id: int) -> list[int]:
        """Live integrations that name this escalation policy."""
        rows = self._rows(
            "SELECT id FROM integrations WHERE escalation_policy_id=? AND deleted_at IS NULL"
            " ORDER BY id",
            (policy_id,),
        )
        return [r["id"] for r in rows]

    # --- notification attempts ----------------------------------------------------------

    def add_notification(
        self,
        db: Database,
        *,
        alert_id: int,
        user_id: int,
        step: int,
        cycle: int,
        contacts: tuple[Contact, ...],
        contact_index: int,
        tried: frozenset[int],
        now: datetime,
    ) -> int:
        """Queue one page (inside a transaction); its id."""
        cur = db.execute(
            "INSERT INTO notification_attempts (alert_id, user_id, step, cycle, contacts,"
            " contact_index, tried, status, next_attempt_at, created_at)"
            " VALUES (?,?,?,?,?,?,?,'pending',?,?) RETURNING id",
            (
                alert_id,
                user_id,
                step,
                cycle,
                _contacts_json(contacts),
                contact_index,
                json.dumps(sorted(tried | {contact_index})),
                iso(now),
                iso(now),
            ),
        )
        return int(cur.fetchone()[0])

    def claim_notifications(
        self, now: datetime, lease_s: float, limit: int = 50
    ) -> list[Notification]:
        """Take the due pages for this server to send: each is leased for `lease_s`.

        The lease moves the page's `next_attempt_at` on, so no other server (sharing the
        database) sends it meanwhile; the outcome of the attempt replaces it. A server that
        dies while sending leaves the lease to run out, and the page is sent by whoever is left.
        """
        due = (
            "SELECT * FROM notification_attempts WHERE status='pending'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
        )
        if not self._rows(due, (iso(now), limit)):
            return []  # the usual tick: no write transaction for nothing
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgresql" else ""
        with self.transaction() as db:
            rows = list(db.query(due + lock, (iso(now), limit)))
            until = iso(now + timedelta(seconds=lease_s))
            for r in rows:
                db.execute(
                    "UPDATE notification_attempts SET next_attempt_at=? WHERE id=?",
                    (until, r["id"]),
                )
        return [_notification(r) for r in rows]

    def notifications(self, alert_id: int) -> list[Notification]:
        """Every page for one alert, in the order queued."""
        rows = self._rows(
            "SELECT * FROM notification_attempts WHERE alert_id=? ORDER BY id", (alert_id,)
        )
        return [_notification(r) for r in rows]

    def update_notification(
        self,
        db: Database,
        n: Notification,
        *,
        status: str,
        attempt: int,
        next_attempt_at: datetime | None,
        last_error: str | None,
        sent_at: datetime | None = None,
    ) -> None:
        """Record the outcome of an attempt (inside a transaction)."""
        db.execute(
            "UPDATE notification_attempts SET status=?, attempt=?, next_attempt_at=?,"
            " last_error=?, sent_at=? WHERE id=?",
            (
                status,
                attempt,
                None if next_attempt_at is None else iso(next_attempt_at),
                last_error,
                None if sent_at is None else iso(sent_at),
                n.id,
            ),
        )

    def cancel_pending(self, db: Database, alert_id: int, reason: str) -> int:
        """Cancel every page of an alert not yet sent; how many."""
        cur = db.execute(
            "UPDATE notification_attempts SET status='cancelled', last_error=?,"
            " next_attempt_at=NULL WHERE alert_id=? AND status='pending'",
            (reason, alert_id),
        )
        return cur.rowcount

    def unescalated(self) -> list[tuple[int, int, datetime]]:
        """Open alerts whose integration has a policy but that have no escalation yet."""
        rows = self._rows(
            "SELECT a.id, CASE WHEN a.priority = 'urgent' AND i.urgent_policy_id IS NOT NULL"
            " THEN i.urgent_policy_id ELSE i.escalation_policy_id END AS policy_id, a.opened_at"
            " FROM alerts a JOIN integrations i ON i.id = a.integration_id"
            " LEFT JOIN escalations e ON e.alert_id = a.id"
            " WHERE a.status = 'open' AND i.escalation_policy_id IS NOT NULL"
            " AND e.alert_id IS NULL ORDER BY a.id"
        )
        return [(r["id"], r["policy_id"], datetime.fromisoformat(r["opened_at"])) for r in rows]

    def sent_to_since(self, address: str, since: datetime) -> int:
        """How many pages went to `address` since `since` (for throttling)."""
        rows = self._rows(
            "SELECT contacts, contact_index FROM notification_attempts"
            " WHERE status='sent' AND sent_at >= ?",
            (iso(since),),
        )
        return sum(1 for r in rows if json.loads(r["contacts"])[r["contact_index"]][2] == address)


_INSERT_ESCALATION = (
    "INSERT INTO escalations (alert_id, policy_id, status, step, cycle, next_at,"
    " paged_in_cycle, reason, started_at) VALUES (?,?,?,?,?,?,?,?,?)"
)


def _escalation_row(state: EscalationState, now: datetime) -> tuple[Any, ...]:
    return (
        state.alert_id,
        state.policy_id,
        state.status,
        state.step,
        state.cycle,
        None if state.next_at is None else iso(state.next_at),
        int(state.paged_in_cycle),
        state.reason,
        iso(now),
    )


def _escalation(r: dict[str, Any]) -> EscalationState:
    return EscalationState(
        alert_id=r["alert_id"],
        policy_id=r["policy_id"],
        status=r["status"],
        step=r["step"],
        cycle=r["cycle"],
        next_at=parse_iso(r["next_at"]),
        paged_in_cycle=bool(r["paged_in_cycle"]),
        reason=r["reason"],
    )


def _notification(r: dict[str, Any]) -> Notification:
    contacts = tuple(Contact(k, ch, addr) for k, ch, addr in json.loads(r["contacts"]))
    return Notification(
        id=r["id"],
        alert_id=r["alert_id"],
        user_id=r["user_id"],
        step=r["step"],
        cycle=r["cycle"],
        contacts=contacts,
        contact_index=r["contact_index"],
        tried=frozenset(json.loads(r["tried"])),
        attempt=r["attempt"],
        status=r["status"],
        next_attempt_at=parse_iso(r["next_attempt_at"]),
        last_error=r["last_error"],
    )


class AlertOwner(Protocol):
    """The alerts domain's store: escalation reads alerts and adds timeline entries through it."""

    def get_alert(self, alert_id: int) -> Alert:
        """One alert; NotFoundError when there is none."""
        ...

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append one entry to the alert's timeline."""
        ...


class AlertsTable:
    """The alerts as the scheduler needs them: through their owner's store, never its SQL."""

    def __init__(self, alerts: AlertOwner, escalations: EscalationStore) -> None:
        self._alerts = alerts
        self._escalations = escalations

    def alert(self, alert_id: int) -> AlertView | None:
        """One alert's status, title and description, or None."""
        try:
            a = self._alerts.get_alert(alert_id)
        except NotFoundError:
            return None
        return AlertView(a.id, a.status, a.title, a.description, a.priority, a.drill)

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append one entry to the alert's timeline."""
        self._alerts.add_timeline(alert_id, at, kind, detail)

    def unescalated(self) -> list[tuple[int, int, datetime]]:
        """Open alerts whose integration has a policy but that have no escalation yet."""
        return self._escalations.unescalated()
