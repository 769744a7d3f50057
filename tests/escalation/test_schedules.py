"""Schedules: rotations hand off at local wall-clock time in any IANA zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from server.escalation.schedules import (
    Override,
    Rotation,
    Schedule,
    handoff_at,
    on_call,
    rotation_on_call,
    shift_index,
)

zones = st.timezones()
start_dates = st.dates(min_value=date(1975, 1, 1), max_value=date(2045, 12, 31))
handoff_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
users = st.lists(st.integers(1, 50), min_size=1, max_size=5, unique=True).map(tuple)
instants = st.datetimes(
    min_value=datetime(1975, 1, 1), max_value=datetime(2046, 12, 31), timezones=st.just(UTC)
)


@st.composite
def calendar_rotations(draw: st.DrawFn) -> Rotation:
    return Rotation(
        users=draw(users),
        start_date=draw(start_dates),
        handoff_time=draw(handoff_times),
        shift_length=draw(st.integers(1, 3)),
        shift_unit=draw(st.sampled_from(["days", "weeks"])),
    )


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def period(rotation: Rotation) -> timedelta:
    return timedelta(days=rotation.shift_length * (7 if rotation.shift_unit == "weeks" else 1))


def in_gap(local: datetime, zone: ZoneInfo) -> bool:
    """`local` never shows on the wall clock in `zone` (the clock jumped past it)."""
    there = local.replace(tzinfo=zone).astimezone(UTC)
    return wall(there, zone) != local


@settings(max_examples=300)
@given(zone=zones, rotation=calendar_rotations(), k=st.integers(0, 600))
def test_each_handoff_happens_at_local_handoff_time_or_as_the_clock_jumps_past_it(
    zone: ZoneInfo, rotation: Rotation, k: int
) -> None:
    wanted = datetime.combine(rotation.start_date, rotation.handoff_time) + k * period(rotation)
    at = handoff_at(rotation, zone, k)
    if in_gap(wanted, zone):
        # The first instant reading after the handoff time: a second earlier it read before it.
        assert wall(at, zone) > wanted
        assert wall(at - timedelta(seconds=1), zone) < wanted
    else:
        assert wall(at, zone) == wanted
        # Fall-back: the first of two readings, never the second.
        assert all(
            wall(at - timedelta(minutes=m), zone) < wanted for m in (1, 30, 60, 90, 120, 180)
        )


@settings(max_examples=300)
@given(zone=zones, rotation=calendar_rotations(), k=st.integers(0, 600))
def test_calendar_shift_lasts_its_days_minus_the_utc_offset_change(
    zone: ZoneInfo, rotation: Rotation, k: int
) -> None:
    begin, end = handoff_at(rotation, zone, k), handoff_at(rotation, zone, k + 1)
    assert begin < end
    first = datetime.combine(rotation.start_date, rotation.handoff_time) + k * period(rotation)
    if in_gap(first, zone) or in_gap(first + period(rotation), zone):
        return
    offset_change = end.astimezone(zone).utcoffset() - begin.astimezone(zone).utcoffset()  # type: ignore[operator]
    assert end - begin == period(rotation) - offset_change


@settings(max_examples=300)
@given(
    zone=zones,
    rotation=calendar_rotations(),
    k=st.integers(1, 600),
    fraction=st.floats(0, 1, exclude_max=True),
)
def test_the_person_on_call_changes_exactly_at_each_handoff_and_in_turn(
    zone: ZoneInfo, rotation: Rotation, k: int, fraction: float
) -> None:
    begin, end = handoff_at(rotation, zone, k), handoff_at(rotation, zone, k + 1)
    n = len(rotation.users)
    assert rotation_on_call(rotation, zone, begin) == rotation.users[k % n]
    assert (
        rotation_on_call(rotation, zone, begin - timedelta(microseconds=1))
        == (rotation.users[(k - 1) % n])
    )
    inside = begin + (end - begin) * fraction
    assert (
        rotation_on_call(rotation, zone, min(inside, end - timedelta(microseconds=1)))
        == (rotation.users[k % n])
    )


@settings(max_examples=300)
@given(zone=zones, rotation=calendar_rotations(), at=instants)
def test_any_instant_falls_in_exactly_one_shift(
    zone: ZoneInfo, rotation: Rotation, at: datetime
) -> None:
    k = shift_index(rotation, zone, at)
    assert handoff_at(rotation, zone, k) <= at < handoff_at(rotation, zone, k + 1)
    expected = None if k < 0 else rotation.users[k % len(rotation.users)]
    assert rotation_on_call(rotation, zone, at) == expected


@given(
    zone=zones,
    start=start_dates,
    handoff=handoff_times,
    hours=st.integers(1, 48),
    at=instants,
)
def test_hour_shifts_are_elapsed_time_whatever_the_clock_does(
    zone: ZoneInfo, start: date, handoff: time, hours: int, at: datetime
) -> None:
    rotation = Rotation((1, 2, 3), start, handoff, shift_length=hours, shift_unit="hours")
    k = shift_index(rotation, zone, at)
    begin = handoff_at(rotation, zone, k)
    assert handoff_at(rotation, zone, k + 1) - begin == timedelta(hours=hours)
    assert begin <= at < begin + timedelta(hours=hours)


@given(zone=zones, rotation=calendar_rotations(), at=instants, extra=st.integers(100, 200))
def test_an_override_replaces_the_person_only_while_it_lasts(
    zone: ZoneInfo, rotation: Rotation, at: datetime, extra: int
) -> None:
    base = Schedule(zone.key, (rotation,))
    regular = on_call(base, at)
    replaced = regular[0] if regular else None
    window = Override(extra, at - timedelta(hours=1), at + timedelta(hours=1), replaces=replaced)
    with_override = Schedule(zone.key, (rotation,), (window,))
    assert on_call(with_override, at) == (extra,)
    assert on_call(with_override, at + timedelta(hours=1)) == on_call(base, at + timedelta(hours=1))
    added = Schedule(zone.key, (rotation,), (Override(extra, at, at + timedelta(minutes=5)),))
    assert on_call(added, at) == (*regular, extra)


def offset_changes(zone: ZoneInfo, year: int) -> list[datetime]:
    """Every instant in `year` at which `zone`'s UTC offset changes (to the minute)."""
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        lo, hi = day, day + timedelta(days=1)
        if lo.astimezone(zone).utcoffset() != hi.astimezone(zone).utcoffset():
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        day += timedelta(days=1)
    return found


@st.composite
def rotations_at_a_clock_change(draw: st.DrawFn) -> tuple[ZoneInfo, Rotation, int]:
    """A zone, a daily rotation whose handoff sits within 3 h of a clock change, the shift."""
    zone = draw(
        st.sampled_from(
            ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
             "Asia/Tehran", "Pacific/Chatham", "America/St_Johns", "Europe/London",
             "Africa/Casablanca", "America/Havana"]
        ).map(ZoneInfo)
    )  # fmt: skip
    changes = offset_changes(zone, draw(st.integers(2000, 2037)))
    if not changes:
        return zone, Rotation((1, 2), date(2026, 1, 1), time(9)), 0
    change = draw(st.sampled_from(changes))
    before = (change - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
    handoff_local = before + timedelta(minutes=1 + 15 * draw(st.integers(-12, 12)))
    days_before = draw(st.integers(1, 10))
    rotation = Rotation(
        (1, 2, 3),
        handoff_local.date() - timedelta(days=days_before),
        handoff_local.time(),
    )
    return zone, rotation, days_before


@settings(max_examples=200)
@given(case=rotations_at_a_clock_change(), around=st.integers(-1, 1))
def test_handoffs_right_at_clock_changes_stay_in_order_and_on_time(
    case: tuple[ZoneInfo, Rotation, int], around: int
) -> None:
    zone, rotation, k = case
    k = max(0, k + around)
    wanted = datetime.combine(rotation.start_date, rotation.handoff_time) + timedelta(days=k)
    begin, end = handoff_at(rotation, zone, k), handoff_at(rotation, zone, k + 1)
    assert begin < end
    if in_gap(wanted, zone):
        assert wall(begin, zone) > wanted
        assert wall(begin - timedelta(seconds=1), zone) < wanted
    else:
        assert wall(begin, zone) == wanted
        assert wall(begin - timedelta(minutes=1), zone) < wanted
    assert rotation_on_call(rotation, zone, begin) == rotation.users[k % 3]
    assert (
        rotation_on_call(rotation, zone, end - timedelta(microseconds=1)) == (rotation.users[k % 3])
    )
    if not in_gap(wanted, zone) and not in_gap(wanted + timedelta(days=1), zone):
        change = end.astimezone(zone).utcoffset() - begin.astimezone(zone).utcoffset()  # type: ignore[operator]
        assert end - begin == timedelta(days=1) - change


def daily(users: tuple[int, ...], start: date, handoff: time) -> Rotation:
    return Rotation(users, start, handoff)


def test_berlin_spring_forward_handoff_in_the_gap_happens_when_clocks_jump() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rotation = daily((1, 2), date(2026, 3, 27), time(2, 30))
    # 2026-03-29 02:00 CET jumps to 03:00 CEST, i.e. 01:00 UTC.
    assert handoff_at(rotation, berlin, 2) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert handoff_at(rotation, berlin, 2) - handoff_at(rotation, berlin, 1) == timedelta(
        hours=23, minutes=30
    )
    assert handoff_at(rotation, berlin, 3) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_new_york_fall_back_shift_lasts_25_hours_and_hands_off_at_first_0130() -> None:
    new_york = ZoneInfo("America/New_York")
    rotation = daily((7, 8), date(2026, 10, 31), time(1, 30))
    assert handoff_at(rotation, new_york, 1) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert handoff_at(rotation, new_york, 1) - handoff_at(rotation, new_york, 0) == timedelta(
        hours=24
    )
    assert handoff_at(rotation, new_york, 2) - handoff_at(rotation, new_york, 1) == timedelta(
        hours=25
    )
    # During the repeated hour, the second 01:00-01:30 does not hand back to user 7.
    second_pass = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 01:15 EST
    assert on_call(Schedule("America/New_York", (rotation,)), second_pass) == (8,)


def test_samoa_skipped_day_still_rotates_in_turn() -> None:
    apia = ZoneInfo("Pacific/Apia")
    rotation = daily((1, 2, 3), date(2011, 12, 28), time(9, 0))
    # 2011-12-30 never happened in Samoa: its shift starts the instant the day was skipped.
    skipped = handoff_at(rotation, apia, 2)
    assert wall(skipped, apia) == datetime(2011, 12, 31, 0, 0)
    assert on_call(Schedule("Pacific/Apia", (rotation,)), skipped) == (3,)


def test_nobody_is_on_call_before_the_rotation_starts() -> None:
    schedule = Schedule("UTC", (daily((1,), date(2026, 1, 1), time(9)),))
    assert on_call(schedule, datetime(2026, 1, 1, 8, 59, tzinfo=UTC)) == ()
    assert on_call(schedule, datetime(2026, 1, 1, 9, 0, tzinfo=UTC)) == (1,)
