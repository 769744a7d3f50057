"""HTTP bodies for users, groups, schedules and escalation policies, and their JSON answers."""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from server.escalation.machine import Policy, Step, Target, Via
from server.escalation.people import Group, StoredPolicy, StoredSchedule, User
from server.escalation.schedules import Override, Rotation, Schedule
from server.fields import RowId

BODY = ConfigDict(extra="forbid")
Name = Field(min_length=1, max_length=200)


class ContactIn(BaseModel):
    """A notification URL, optionally with its kind when the scheme does not tell."""

    model_config = BODY
    url: str = Field(min_length=3, max_length=2000)
    kind: Via | None = None


class UserIn(BaseModel):
    """`POST /api/v1/users`."""

    model_config = BODY
    name: str = Name
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    contacts: list[str | ContactIn] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or any(c.isspace() for c in value)):
            raise ValueError("not an email address")
        return value

    def pairs(self) -> tuple[tuple[str, Via | None], ...]:
        """Contacts as (url, kind) pairs."""
        return tuple((c, None) if isinstance(c, str) else (c.url, c.kind) for c in self.contacts)

    def to_user(self, user_id: int = 0) -> User:
        return User(user_id, self.name, self.email, self.phone, self.pairs())


class GroupIn(BaseModel):
    """`POST /api/v1/groups`."""

    model_config = BODY
    name: str = Name
    members: list[RowId] = Field(default_factory=list, max_length=500)

    def to_group(self, group_id: int = 0) -> Group:
        return Group(group_id, self.name, tuple(dict.fromkeys(self.members)))


class RotationIn(BaseModel):
    """One rotation: users in turn, handing off at `handoff_time` local time."""

    model_config = BODY
    users: list[RowId] = Field(min_length=1, max_length=200)
    start_date: date
    handoff_time: time = time(9, 0)
    shift_length: int = Field(default=1, ge=1, le=1000)
    shift_unit: Literal["hours", "days", "weeks"] = "days"


class OverrideIn(BaseModel):
    """`user` on call from `start_at` to `end_at`, instead of `replaces` (or as well, if null)."""

    model_config = BODY
    user: RowId
    start_at: AwareDatetime
    end_at: AwareDatetime
    replaces: RowId | None = None

    @model_validator(mode="after")
    def _order(self) -> OverrideIn:
        if self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        return self

    def to_override(self) -> Override:
        return Override(self.user, self.start_at, self.end_at, self.replaces)


class ScheduleIn(BaseModel):
    """`POST /api/v1/schedules`."""

    model_config = BODY
    name: str = Name
    time_zone: str = "UTC"
    rotations: list[RotationIn] = Field(default_factory=list, max_length=20)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=500)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def to_schedule(self) -> Schedule:
        rotations = tuple(
            Rotation(tuple(r.users), r.start_date, r.handoff_time, r.shift_length, r.shift_unit)
            for r in self.rotations
        )
        return Schedule(self.time_zone, rotations, tuple(o.to_override() for o in self.overrides))

    def user_ids(self) -> set[int]:
        ids = {u for r in self.rotations for u in r.users}
        ids |= {o.user for o in self.overrides}
        return ids | {o.replaces for o in self.overrides if o.replaces is not None}


class StepIn(BaseModel):
    """One escalation step."""

    model_config = BODY
    after_s: float = Field(ge=0, le=30 * 86400)
    notify: list[dict[Literal["user", "group", "schedule"], RowId]] = Field(max_length=50)
    via: list[Via] | None = None

    @field_validator("notify")
    @classmethod
    def _one_key(
        cls, value: list[dict[Literal["user", "group", "schedule"], int]]
    ) -> list[dict[Literal["user", "group", "schedule"], int]]:
        for i, target in enumerate(value):
            if len(target) != 1:
                raise ValueError(f"notify[{i}] must be one of {{user|group|schedule: id}}")
        return value

    def to_step(self) -> Step:
        targets = tuple(Target(k, v) for t in self.notify for k, v in t.items())
        return Step(self.after_s, targets, None if self.via is None else tuple(self.via))


class PolicyIn(BaseModel):
    """`POST /api/v1/escalation-policies`."""

    model_config = BODY
    name: str = Name
    steps: list[StepIn] = Field(min_length=1, max_length=50)
    repeat: int = Field(default=0, ge=0, le=100)
    ack_timeout_s: int | None = Field(default=None, ge=10, le=7 * 86400)

    def to_policy(self) -> Policy:
        return Policy(tuple(s.to_step() for s in self.steps), self.repeat, self.ack_timeout_s)


def user_json(u: User) -> dict[str, Any]:
    contacts = [{"url": url, "kind": kind} for url, kind in u.contacts]
    return {"id": u.id, "name": u.name, "email": u.email, "phone": u.phone, "contacts": contacts}


def group_json(g: Group) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "members": list(g.members)}


def schedule_json(s: StoredSchedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "time_zone": s.schedule.time_zone,
        "rotations": [
            {
                "users": list(r.users),
                "start_date": r.start_date.isoformat(),
                "handoff_time": r.handoff_time.strftime("%H:%M"),
                "shift_length": r.shift_length,
                "shift_unit": r.shift_unit,
            }
            for r in s.schedule.rotations
        ],
        "overrides": [
            {
                "user": o.user,
                "start_at": o.start_at.isoformat(),
                "end_at": o.end_at.isoformat(),
                "replaces": o.replaces,
            }
            for o in s.schedule.overrides
        ],
    }


def policy_json(p: StoredPolicy) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "repeat": p.policy.repeat,
        "ack_timeout_s": p.policy.ack_timeout_s,
        "steps": [
            {
                "after_s": s.after_s,
                "notify": [{t.kind: t.id} for t in s.targets],
                "via": None if s.via is None else list(s.via),
            }
            for s in p.policy.steps
        ],
    }
