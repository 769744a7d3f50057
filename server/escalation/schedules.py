"""On-call schedules: rotations handing off at local wall-clock time, overrides, who is on call.

Pure: every function takes the instant it answers for. Shifts measured in days or weeks hand
off at `handoff_time` on the schedule's local calendar, so a daily shift across a DST change
lasts 23 or 25 hours; shifts measured in hours are elapsed time. A handoff time that does not
exist on a day (spring-forward gap) takes effect the instant the clock jumps past it; one that
exists twice (fall-back) takes effect at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ShiftUnit = Literal["hours", "days", "weeks"]

_UNIT_DAYS = {"days": 1, "weeks": 7}


@dataclass(frozen=True, slots=True)
class Rotation:
    """Users taking turns: shift `k` belongs to `users[k % len(users)]`."""

    users: tuple[int, ...]
    start_date: date
    handoff_time: time
    shift_length: int = 1
    shift_unit: ShiftUnit = "days"


@dataclass(frozen=True, slots=True)
class Override:
    """`user` is on call in [start_at, end_at) in place of `replaces` (or beside them when None)."""

    user: int
    start_at: datetime
    end_at: datetime
    replaces: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """Rotations read in one IANA time zone, plus overrides."""

    time_zone: str
    rotations: tuple[Rotation, ...] = ()
    overrides: tuple[Override, ...] = ()


def first_instant_at_or_after(local: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant whose wall-clock reading in `zone` is at or after naive `local`."""
    early = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(early, late), max(early, late)
    if _wall(lo, zone) >= local:
        return lo
    if _wall(hi, zone) < local:  # pragma: no cover - zoneinfo always brackets the gap
        return hi
    # `local` lies in a gap: lo reads before it, hi after; the jump sits in between.
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _wall(lo + timedelta(seconds=mid), zone) >= local:
            hi_s = mid
        else:
            lo_s = mid
    return lo + timedelta(seconds=hi_s)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def handoff_at(rotation: Rotation, zone: ZoneInfo, k: int) -> datetime:
    """The UTC instant shift `k` of `rotation` begins (k may be negative)."""
    start_local = datetime.combine(rotation.start_date, rotation.handoff_time)
    if rotation.shift_unit == "hours":
        start = first_instant_at_or_after(start_local, zone)
        return start + timedelta(hours=k * rotation.shift_length)
    days = k * rotation.shift_length * _UNIT_DAYS[rotation.shift_unit]
    return first_instant_at_or_after(start_local + timedelta(days=days), zone)


def shift_index(rotation: Rotation, zone: ZoneInfo, at: datetime) -> int:
    """The number of the shift running at `at` (negative before the rotation starts)."""
    start = handoff_at(rotation, zone, 0)
    if rotation.shift_unit == "hours":
        return int((at - start) // timedelta(hours=rotation.shift_length))
    period_days = rotation.shift_length * _UNIT_DAYS[rotation.shift_unit]
    local_days = (at.astimezone(zone).date() - rotation.start_date).days
    k = local_days // period_days
    while handoff_at(rotation, zone, k) > at:
        k -= 1
    while handoff_at(rotation, zone, k + 1) <= at:
        k += 1
    return k


def rotation_on_call(rotation: Rotation, zone: ZoneInfo, at: datetime) -> int | None:
    """Who holds the rotation at `at`; nobody before its first shift or with no users."""
    if not rotation.users:
        return None
    k = shift_index(rotation, zone, at)
    if k < 0:
        return None
    return rotation.users[k % len(rotation.users)]


def on_call(schedule: Schedule, at: datetime) -> tuple[int, ...]:
    """Every user on call at `at`, in rotation order, overrides applied, without duplicates."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    zone = ZoneInfo(schedule.time_zone)
    users: list[int] = []
    for rotation in schedule.rotations:
        user = rotation_on_call(rotation, zone, at)
        if user is not None and user not in users:
            users.append(user)
    for override in schedule.overrides:
        if not override.start_at <= at < override.end_at:
            continue
        if override.replaces is not None:
            if override.replaces not in users:
                continue
            users = [override.user if u == override.replaces else u for u in users]
        else:
            users.append(override.user)
    return tuple(dict.fromkeys(users))


def next_handoffs(rotation: Rotation, zone: ZoneInfo, at: datetime, count: int) -> list[datetime]:
    """The next `count` handoff instants strictly after `at`."""
    k = shift_index(rotation, zone, at)
    return [handoff_at(rotation, zone, k + i) for i in range(1, count + 1)]
