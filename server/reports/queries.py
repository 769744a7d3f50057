"""Response-time and drill reports read from the alerts table (the only SQL of reports).

The database does the filtering and the date arithmetic (one indexed range scan, durations in
seconds); grouping and exact percentiles happen here on the sorted values of each group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from server.alerts.model import iso
from server.db.engine import Database
from server.reports.schema import PRIORITIES

GroupBy = Literal["source", "integration", "hour", "day", "priority"]
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)
OVER_S = 15 * 60  # "calls over 15 minutes"

# A close answers a call too (the carer presses the button's Off): the first of the two counts.
# Durations are worked out here from the stored ISO times: exact to the microsecond and, measured,
# faster than SQLite's julianday() on every row.
_ROWS_SQL = """
SELECT {key}, opened_at, COALESCE(acknowledged_at, closed_at), closed_at
FROM alerts {hint} WHERE opened_at >= ? AND opened_at < ? AND drill = 0
"""
_KEY_COLUMNS = {
    "source": "source_name",
    "integration": "integration_id",
    "priority": "priority",
    "hour": "NULL",
    "day": "NULL",
}
# Past this the range covers much of the table: one sequential scan beats index lookups.
SCAN_OVER = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One group of a response-time report (durations in seconds, None without values)."""

    key: str
    alerts: int
    acknowledged: int
    p50_ack_s: float | None
    p90_ack_s: float | None
    max_ack_s: float | None
    p50_close_s: float | None
    p90_close_s: float | None
    within_target: float  # share of the group's alerts acknowledged within the target
    over_15_min: int  # acknowledged after 15 minutes, or still waiting longer than that


@dataclass(frozen=True, slots=True)
class DrillRow:
    """One button (source): its drills and when one last reached a person."""

    integration_id: int
    integration: str
    source: str
    drills: int
    last_drill_at: datetime | None
    last_proven_at: datetime | None  # the last drill someone acknowledged
    proven_in_s: float | None  # how long that acknowledgement took


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


class _Group:
    __slots__ = ("acks", "alerts", "closes", "over", "within")

    def __init__(self) -> None:
        self.alerts = 0
        self.within = 0
        self.over = 0
        self.acks: list[float] = []
        self.closes: list[float] = []


def response_times(
    db: Database,
    *,
    from_at: datetime,
    to_at: datetime,
    group_by: GroupBy,
    zone: ZoneInfo,
    target_s: float,
    now: datetime,
) -> list[ResponseRow]:
    """Alerts opened in [from_at, to_at), drills left out, grouped and ordered by key."""
    groups: dict[Any, _Group] = {}
    local = _local_key(group_by, zone)
    sql = _ROWS_SQL.format(
        key=_KEY_COLUMNS[group_by],
        # SQLite's planner would walk the index for a long range: a scan is faster there.
        hint="NOT INDEXED" if db.dialect == "sqlite" and to_at - from_at > SCAN_OVER else "",
    )
    parse = datetime.fromisoformat
    for key, opened_text, answered_text, closed_text in db.execute(sql, [iso(from_at), iso(to_at)]):
        if local is not None:
            key = local(opened_text)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        group.alerts += 1
        opened_at = parse(opened_text)
        if answered_text is None:
            waited = (now - opened_at).total_seconds()
        else:
            waited = (parse(answered_text) - opened_at).total_seconds()
            group.acks.append(waited)
            if waited <= target_s:
                group.within += 1
        if waited > OVER_S:
            group.over += 1
        if closed_text is not None:
            group.closes.append((parse(closed_text) - opened_at).total_seconds())
    if group_by == "integration":
        names = dict(db.execute("SELECT id, name FROM integrations").fetchall())
        groups = {names.get(k, f"#{k}"): g for k, g in groups.items()}
    return [_row(key, groups[key]) for key in _ordered_keys(group_by, groups)]


def _row(key: Any, group: _Group) -> ResponseRow:
    group.acks.sort()
    group.closes.sort()
    return ResponseRow(
        key=str(key),
        alerts=group.alerts,
        acknowledged=len(group.acks),
        p50_ack_s=percentile(group.acks, 50),
        p90_ack_s=percentile(group.acks, 90),
        max_ack_s=group.acks[-1] if group.acks else None,
        p50_close_s=percentile(group.closes, 50),
        p90_close_s=percentile(group.closes, 90),
        within_target=round(group.within / group.alerts, 4),
        over_15_min=group.over,
    )


def _ordered_keys(group_by: GroupBy, groups: dict[Any, _Group]) -> Iterable[Any]:
    if group_by == "priority":
        return sorted(groups, key=lambda k: PRIORITIES.index(k) if k in PRIORITIES else 99)
    return sorted(groups)


def _local_key(group_by: GroupBy, zone: ZoneInfo) -> Callable[[str], str] | None:
    """For hour and day: the local hour or date of an opening time; None for the others."""
    if group_by not in ("hour", "day"):
        return None
    fmt = "%H" if group_by == "hour" else "%Y-%m-%d"
    by_hour: dict[str, str | None] = {}  # UTC hour -> local key; None: offset not whole hours
    by_minute: dict[str, str] = {}

    def local(opened_at: str) -> str:
        # ZoneInfo knows each instant's offset, so DST days come out right. In a zone whose
        # offset is whole hours (changes fall on the hour), a whole UTC hour shares one answer.
        hour = opened_at[:13]
        found = by_hour.get(hour, "")
        if found:
            return found
        at = datetime.fromisoformat(opened_at).astimezone(zone)
        if found == "":
            offset = at.utcoffset()
            whole = offset is not None and offset.total_seconds() % 3600 == 0
            by_hour[hour] = at.strftime(fmt) if whole else None
            if whole:
                return at.strftime(fmt)
        minute = opened_at[:16]
        cached = by_minute.get(minute)
        if cached is None:
            cached = by_minute[minute] = at.strftime(fmt)
        return cached

    return local


def drills(db: Database) -> list[DrillRow]:
    """Every button that ever opened an alert, the least recently proven first."""
    buttons = db.execute(
        """SELECT a.integration_id, i.name, a.source_name
           FROM alerts a JOIN integrations i ON i.id = a.integration_id
           GROUP BY a.integration_id, a.source_name"""
    ).fetchall()
    count: dict[tuple[int, str], int] = {}
    last_drill: dict[tuple[int, str], str] = {}
    proven: dict[tuple[int, str], tuple[str, str]] = {}  # (acknowledged_at, opened_at)
    for integration_id, source, opened_at, acked_at in db.execute(
        """SELECT integration_id, source_name, opened_at, acknowledged_at
           FROM alerts WHERE drill = 1"""
    ):
        button = (integration_id, source)
        count[button] = count.get(button, 0) + 1
        last_drill[button] = max(last_drill.get(button, opened_at), opened_at)
        if acked_at is not None and acked_at > proven.get(button, ("", ""))[0]:
            proven[button] = (acked_at, opened_at)
    out: list[DrillRow] = []
    for integration_id, integration, source in buttons:
        button = (integration_id, source)
        acked = proven.get(button)
        out.append(
            DrillRow(
                integration_id,
                integration,
                source,
                count.get(button, 0),
                _utc(last_drill.get(button)),
                None if acked is None else _utc(acked[0]),
                None if acked is None else _seconds_between(acked[1], acked[0]),
            )
        )
    never = datetime.min.replace(tzinfo=UTC)
    out.sort(key=lambda r: (r.last_proven_at or never, r.integration, r.source))
    return out


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)
