"""SQL for people, schedules, policies, escalation state and notification attempts."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from server.escalation import EscalationState, Policy, Step, Target, Via
from server.migrations import Migration, sql_step
from server.notify.contacts import Contact
from server.schedules import Override, Rotation, Schedule

# The schema, statement by statement; each is idempotent so a standalone store can run them.
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


@dataclass(frozen=True, slots=True)
class User:
    """A person who can be paged."""

    id: int
    name: str
    email: str | None
    phone: str | None
    contacts: tuple[tuple[str, Via | None], ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Named set of users."""

    id: int
    name: str
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    """A schedule with its name and id."""

    id: int
    name: str
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """An escalation policy with its name and id."""

    id: int
    name: str
    policy: Policy


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


def iso(at: datetime) -> str:
    """Aware UTC datetime as ISO text that sorts correctly."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of `iso`."""
    return None if text is None else datetime.fromisoformat(text)


def _rotation_json(r: Rotation) -> dict[str, Any]:
    return {
        "users": list(r.users),
        "start_date": r.start_date.isoformat(),
        "handoff_time": r.handoff_time.strftime("%H:%M"),
        "shift_length": r.shift_length,
        "shift_unit": r.shift_unit,
    }


def _rotation(d: dict[str, Any]) -> Rotation:
    return Rotation(
        tuple(d["users"]),
        date.fromisoformat(d["start_date"]),
        time.fromisoformat(d["handoff_time"]),
        d["shift_length"],
        d["shift_unit"],
    )


def _step_json(s: Step) -> dict[str, Any]:
    return {
        "after_s": s.after_s,
        "notify": [{t.kind: t.id} for t in s.targets],
        "via": None if s.via is None else list(s.via),
    }


def _step(d: dict[str, Any]) -> Step:
    targets = tuple(Target(kind, ident) for t in d["notify"] for kind, ident in t.items())
    return Step(float(d["after_s"]), targets, None if d["via"] is None else tuple(d["via"]))


def _contacts_json(contacts: tuple[Contact, ...]) -> str:
    return json.dumps([[c.kind, c.channel, c.address] for c in contacts])


class EscalationStore:
    """The only place with SQL for escalation; one connection, serialised by a lock."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.RLock()

    def migrate(self) -> None:
        """Create the tables when run standalone (the server runs MIGRATIONS itself)."""
        with self._lock:
            for statement in SCHEMA:
                self._conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing block: either every write in it lands or none does."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # --- people -------------------------------------------------------------------------

    def add_user(self, user: User, now: datetime) -> int:
        """Insert a user; its id."""
        contacts = json.dumps([[url, kind] for url, kind in user.contacts])
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO users (name, email, phone, contacts, created_at) VALUES (?,?,?,?,?)",
                (user.name, user.email, user.phone, contacts, iso(now)),
            )
        return int(cur.lastrowid or 0)

    def replace_user(self, user: User) -> bool:
        """Overwrite a user; False when it does not exist."""
        contacts = json.dumps([[url, kind] for url, kind in user.contacts])
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE users SET name=?, email=?, phone=?, contacts=? WHERE id=?",
                (user.name, user.email, user.phone, contacts, user.id),
            )
        return cur.rowcount > 0

    def users(self) -> list[User]:
        """Every user by id."""
        return [_user(r) for r in self._rows("SELECT * FROM users ORDER BY id")]

    def user(self, user_id: int) -> User | None:
        """One user or None."""
        rows = self._rows("SELECT * FROM users WHERE id=?", (user_id,))
        return _user(rows[0]) if rows else None

    def missing_users(self, ids: set[int]) -> list[int]:
        """Those of `ids` that name no user."""
        known = {u.id for u in self.users()}
        return sorted(ids - known)

    def add_group(self, group: Group, now: datetime) -> int:
        """Insert a group; its id."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO user_groups (name, members, created_at) VALUES (?,?,?)",
                (group.name, json.dumps(list(group.members)), iso(now)),
            )
        return int(cur.lastrowid or 0)

    def groups(self) -> list[Group]:
        """Every group by id."""
        return [
            Group(r["id"], r["name"], tuple(json.loads(r["members"])))
            for r in self._rows("SELECT * FROM user_groups ORDER BY id")
        ]

    def add_schedule(self, name: str, schedule: Schedule, now: datetime) -> int:
        """Insert a schedule and its overrides; its id."""
        rotations = json.dumps([_rotation_json(r) for r in schedule.rotations])
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO schedules (name, time_zone, rotations, created_at) VALUES (?,?,?,?)",
                (name, schedule.time_zone, rotations, iso(now)),
            )
            schedule_id = int(cur.lastrowid or 0)
            for o in schedule.overrides:
                self._insert_override(db, schedule_id, o)
        return schedule_id

    def add_override(self, schedule_id: int, override: Override) -> int:
        """Insert one override; its id."""
        with self.transaction() as db:
            return self._insert_override(db, schedule_id, override)

    @staticmethod
    def _insert_override(db: sqlite3.Connection, schedule_id: int, o: Override) -> int:
        cur = db.execute(
            "INSERT INTO schedule_overrides (schedule_id, user_id, start_at, end_at, replaces)"
            " VALUES (?,?,?,?,?)",
            (schedule_id, o.user, iso(o.start_at), iso(o.end_at), o.replaces),
        )
        return int(cur.lastrowid or 0)

    def schedules(self) -> list[StoredSchedule]:
        """Every schedule by id, overrides included."""
        overrides: dict[int, list[Override]] = {}
        for r in self._rows("SELECT * FROM schedule_overrides ORDER BY start_at, id"):
            overrides.setdefault(r["schedule_id"], []).append(
                Override(
                    r["user_id"],
                    datetime.fromisoformat(r["start_at"]),
                    datetime.fromisoformat(r["end_at"]),
                    r["replaces"],
                )
            )
        return [
            StoredSchedule(
                r["id"],
                r["name"],
                Schedule(
                    r["time_zone"],
                    tuple(_rotation(d) for d in json.loads(r["rotations"])),
                    tuple(overrides.get(r["id"], ())),
                ),
            )
            for r in self._rows("SELECT * FROM schedules ORDER BY id")
        ]

    def add_policy(self, name: str, policy: Policy, now: datetime) -> int:
        """Insert an escalation policy; its id."""
        steps = json.dumps([_step_json(s) for s in policy.steps])
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO escalation_policies (name, steps, repeat, created_at)"
                " VALUES (?,?,?,?)",
                (name, steps, policy.repeat, iso(now)),
            )
        return int(cur.lastrowid or 0)

    def policies(self) -> list[StoredPolicy]:
        """Every escalation policy by id."""
        return [_policy(r) for r in self._rows("SELECT * FROM escalation_policies ORDER BY id")]

    def policy(self, policy_id: int) -> StoredPolicy | None:
        """One policy or None."""
        rows = self._rows("SELECT * FROM escalation_policies WHERE id=?", (policy_id,))
        return _policy(rows[0]) if rows else None

    def replace_group(self, group: Group) -> bool:
        """Overwrite a group; False when it does not exist."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE user_groups SET name=?, members=? WHERE id=?",
                (group.name, json.dumps(list(group.members)), group.id),
            )
        return cur.rowcount > 0

    def replace_schedule(self, schedule_id: int, name: str, schedule: Schedule) -> bool:
        """Overwrite a schedule and all its overrides; False when it does not exist."""
        rotations = json.dumps([_rotation_json(r) for r in schedule.rotations])
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE schedules SET name=?, time_zone=?, rotations=? WHERE id=?",
                (name, schedule.time_zone, rotations, schedule_id),
            )
            if cur.rowcount:
                db.execute("DELETE FROM schedule_overrides WHERE schedule_id=?", (schedule_id,))
                for o in schedule.overrides:
                    self._insert_override(db, schedule_id, o)
        return cur.rowcount > 0

    def replace_policy(self, policy_id: int, name: str, policy: Policy) -> bool:
        """Overwrite a policy (running escalations follow the new steps); False if missing."""
        steps = json.dumps([_step_json(s) for s in policy.steps])
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE escalation_policies SET name=?, steps=?, repeat=? WHERE id=?",
                (name, steps, policy.repeat, policy_id),
            )
        return cur.rowcount > 0

    def delete(self, table: str, row_id: int) -> bool:
        """Delete one row of a people table; False when it was not there."""
        if table not in {"users", "user_groups", "schedules", "escalation_policies"}:
            raise ValueError(table)
        with self.transaction() as db:
            cur = db.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))  # table is allow-listed
            if table == "schedules":
                db.execute("DELETE FROM schedule_overrides WHERE schedule_id=?", (row_id,))
        return cur.rowcount > 0

    # --- escalation state ---------------------------------------------------------------

    def save_escalation(
        self, db: sqlite3.Connection, state: EscalationState, now: datetime
    ) -> None:
        """Insert or update one alert's escalation state inside a transaction."""
        db.execute(
            "INSERT INTO escalations (alert_id, policy_id, status, step, cycle, next_at,"
            " paged_in_cycle, reason, started_at) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(alert_id) DO UPDATE SET status=excluded.status, step=excluded.step,"
            " cycle=excluded.cycle, next_at=excluded.next_at,"
            " paged_in_cycle=excluded.paged_in_cycle, reason=excluded.reason",
            (
                state.alert_id,
                state.policy_id,
                state.status,
                state.step,
                state.cycle,
                None if state.next_at is None else iso(state.next_at),
                int(state.paged_in_cycle),
                state.reason,
                iso(now),
            ),
        )

    def escalation(self, alert_id: int) -> EscalationState | None:
        """One alert's escalation state or None."""
        rows = self._rows("SELECT * FROM escalations WHERE alert_id=?", (alert_id,))
        return _escalation(rows[0]) if rows else None

    def due_escalations(self, now: datetime) -> list[EscalationState]:
        """Active escalations whose next step is due at `now`."""
        rows = self._rows(
            "SELECT * FROM escalations WHERE status='active' AND next_at <= ? ORDER BY next_at",
            (iso(now),),
        )
        return [_escalation(r) for r in rows]

    def next_wakeup(self) -> datetime | None:
        """The earliest instant anything (step or delivery) is due."""
        rows = self._rows(
            "SELECT MIN(at) AS at FROM ("
            " SELECT next_at AS at FROM escalations WHERE status='active'"
            " UNION ALL SELECT next_attempt_at FROM notification_attempts"
            " WHERE status='pending')"
        )
        return parse_iso(rows[0]["at"]) if rows else None

    # --- notification attempts ----------------------------------------------------------

    def add_notification(
        self,
        db: sqlite3.Connection,
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
            " VALUES (?,?,?,?,?,?,?,'pending',?,?)",
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
        return int(cur.lastrowid or 0)

    def due_notifications(self, now: datetime, limit: int = 50) -> list[Notification]:
        """Pending pages whose (next) attempt is due, oldest first."""
        rows = self._rows(
            "SELECT * FROM notification_attempts WHERE status='pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (iso(now), limit),
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
        db: sqlite3.Connection,
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

    def cancel_pending(self, db: sqlite3.Connection, alert_id: int, reason: str) -> int:
        """Cancel every page of an alert not yet sent; how many."""
        cur = db.execute(
            "UPDATE notification_attempts SET status='cancelled', last_error=?,"
            " next_attempt_at=NULL WHERE alert_id=? AND status='pending'",
            (reason, alert_id),
        )
        return cur.rowcount

    def sent_to_since(self, address: str, since: datetime) -> int:
        """How many pages went to `address` since `since` (for throttling)."""
        rows = self._rows(
            "SELECT contacts, contact_index FROM notification_attempts"
            " WHERE status='sent' AND sent_at >= ?",
            (iso(since),),
        )
        return sum(1 for r in rows if json.loads(r["contacts"])[r["contact_index"]][2] == address)


def _user(r: dict[str, Any]) -> User:
    contacts = tuple((url, kind) for url, kind in json.loads(r["contacts"]))
    return User(r["id"], r["name"], r["email"], r["phone"], contacts)


def _policy(r: dict[str, Any]) -> StoredPolicy:
    steps = tuple(_step(d) for d in json.loads(r["steps"]))
    return StoredPolicy(r["id"], r["name"], Policy(steps, r["repeat"]))


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


class AlertsTable:
    """The alert store's `alerts` and `alert_events` tables, as the scheduler needs them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def alert(self, alert_id: int) -> AlertView | None:
        """One alert's status, title and description, or None."""
        row = self._conn.execute(
            "SELECT id, status, title, description FROM alerts WHERE id=?", (alert_id,)
        ).fetchone()
        return None if row is None else AlertView(row[0], row[1], row[2], row[3] or "")

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append one entry to the alert's timeline."""
        self._conn.execute(
            "INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?,?,?,?)",
            (alert_id, at.astimezone(UTC).isoformat(), kind, detail),
        )
