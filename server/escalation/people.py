"""SQL for users, groups, schedules (with overrides) and escalation policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from server.db.engine import Database
from server.escalation.machine import Policy, Step, Target, Via
from server.escalation.schedules import Override, Rotation, Schedule


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


class PeopleStore:
    """Who can be paged and how, through the one `Database` (on the database thread)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All-or-nothing block: either every write in it lands or none does."""
        with self._db.transaction():
            yield self._db

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return list(self._db.query(sql, params))

    def add_user(self, user: User, now: datetime) -> int:
        """Insert a user; its id."""
        contacts = json.dumps([[url, kind] for url, kind in user.contacts])
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO users (name, email, phone, contacts, created_at) VALUES (?,?,?,?,?)"
                " RETURNING id",
                (user.name, user.email, user.phone, contacts, iso(now)),
            )
            return int(cur.fetchone()[0])

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
                "INSERT INTO user_groups (name, members, created_at) VALUES (?,?,?) RETURNING id",
                (group.name, json.dumps(list(group.members)), iso(now)),
            )
            return int(cur.fetchone()[0])

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
                "INSERT INTO schedules (name, time_zone, rotations, created_at) VALUES (?,?,?,?)"
                " RETURNING id",
                (name, schedule.time_zone, rotations, iso(now)),
            )
            schedule_id = int(cur.fetchone()[0])
            for o in schedule.overrides:
                self._insert_override(db, schedule_id, o)
        return schedule_id

    def add_override(self, schedule_id: int, override: Override) -> int:
        """Insert one override; its id."""
        with self.transaction() as db:
            return self._insert_override(db, schedule_id, override)

    @staticmethod
    def _insert_override(db: Database, schedule_id: int, o: Override) -> int:
        cur = db.execute(
            "INSERT INTO schedule_overrides (schedule_id, user_id, start_at, end_at, replaces)"
            " VALUES (?,?,?,?,?) RETURNING id",
            (schedule_id, o.user, iso(o.start_at), iso(o.end_at), o.replaces),
        )
        return int(cur.fetchone()[0])

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
                "INSERT INTO escalation_policies (name, steps, repeat, created_at, ack_timeout_s)"
                " VALUES (?,?,?,?,?) RETURNING id",
                (name, steps, policy.repeat, iso(now), policy.ack_timeout_s),
            )
            return int(cur.fetchone()[0])

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
                "UPDATE escalation_policies SET name=?, steps=?, repeat=?, ack_timeout_s=?"
                " WHERE id=?",
                (name, steps, policy.repeat, policy.ack_timeout_s, policy_id),
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


def _user(r: dict[str, Any]) -> User:
    contacts = tuple((url, kind) for url, kind in json.loads(r["contacts"]))
    return User(r["id"], r["name"], r["email"], r["phone"], contacts)


def _policy(r: dict[str, Any]) -> StoredPolicy:
    steps = tuple(_step(d) for d in json.loads(r["steps"]))
    return StoredPolicy(r["id"], r["name"], Policy(steps, r["repeat"], r.get("ack_timeout_s")))
