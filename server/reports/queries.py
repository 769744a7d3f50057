"""Response-time and drill reports read from the alerts table (the only SQL of reports).

The database does the filtering and the date arithmetic (one indexed range scan, durations in
seconds); grouping and exact percentiles happen here on the sorted values of each group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import sqlite_utils

from server.models import iso
from server.reports.schema import PRIORITIES

GroupBy = Literal["source", "integration", "hour", "day", "priority"]
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)
OVER_S = 15 * 60  # "calls over 15 minutes"
_KeyFn = Callable[[str, str, str, str], str]

# A close answers a call too (the carer presses the button's Off): the first of the two counts.
_ROWS_SQL = """
SELECT a.source_name, i.name, a.priority, a.opened_at,
       round((julianday(COALESCE(a.acknowledged_at, a.closed_at)) - julianday(a.opened_at))
             * 86400.0, 3),
       round((julianday(a.closed_at) - julianday(a.opened_at)) * 86400.0, 3)
FROM alerts a JOIN integrations i ON i.id = a.integration_id
WHERE a.opened_at >= ? AND a.opened_at < ? AND a.drill = 0
"""


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
    db: sqlite_utils.Database,
    *,
    from_at: datetime,
    to_at: datetime,
    group_by: GroupBy,
    zone: ZoneInfo,
    target_s: float,
    now: datetime,
) -> list[ResponseRow]:
    """Alerts opened in [from_at, to_at), drills left out, grouped and ordered by key."""
    groups: dict[str, _Group] = {}
    key_of = _key_function(group_by, zone)
    cursor = db.execute(_ROWS_SQL, [iso(from_at), iso(to_at)])
    for source, integration, priority, opened_at, ack_s, close_s in cursor:
        key = key_of(source, integration, priority, opened_at)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        group.alerts += 1
        if ack_s is None:
            waited = (now - datetime.fromisoformat(opened_at)).total_seconds()
        else:
            waited = ack_s
            group.acks.append(ack_s)
            if ack_s <= target_s:
                group.within += 1
        if waited > OVER_S:
            group.over += 1
        if close_s is not None:
            group.closes.append(close_s)
    return [_row(key, groups[key]) for key in _ordered_keys(group_by, groups)]


def _row(key: str, group: _Group) -> ResponseRow:
    group.acks.sort()
    group.closes.sort()
    return ResponseRow(
        key=key,
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


def _ordered_keys(group_by: GroupBy, groups: dict[str, _Group]) -> Iterable[str]:
    if group_by == "priority":
        return sorted(groups, key=lambda k: PRIORITIES.index(k) if k in PRIORITIES else 99)
    return sorted(groups)


def _key_function(group_by: GroupBy, zone: ZoneInfo) -> _KeyFn:
    if group_by == "source":
        return lambda source, integration, priority, opened_at: source
    if group_by == "integration":
        return lambda source, integration, priority, opened_at: integration
    if group_by == "priority":
        return lambda source, integration, priority, opened_at: priority
    fmt = "%H" if group_by == "hour" else "%Y-%m-%d"
    cache: dict[str, str] = {}

    def local(source: str, integration: str, priority: str, opened_at: str) -> str:
        # Local time per row (ZoneInfo knows each instant's offset, so DST days are right);
        # alerts opened in the same minute share the answer.
        minute = opened_at[:16]
        found = cache.get(minute)
        if found is None:
            at = datetime.fromisoformat(opened_at).astimezone(zone)
            found = cache[minute] = at.strftime(fmt)
        return found

    return local


def drills(db: sqlite_utils.Database) -> list[DrillRow]:
    """Every button that ever opened an alert, the least recently proven first."""
    rows = db.execute(
        """
        SELECT a.integration_id, i.name, a.source_name,
               SUM(a.drill), MAX(CASE WHEN a.drill = 1 THEN a.opened_at END),
               MAX(CASE WHEN a.drill = 1 THEN a.acknowledged_at END)
        FROM alerts a JOIN integrations i ON i.id = a.integration_id
        GROUP BY a.integration_id, a.source_name
        """
    ).fetchall()
    out: list[DrillRow] = []
    for integration_id, integration, source, count, last_drill_at, last_proven_at in rows:
        proven_in_s = None
        if last_proven_at is not None:
            found = db.execute(
                """SELECT opened_at FROM alerts WHERE integration_id = ? AND source_name = ?
                   AND drill = 1 AND acknowledged_at = ? LIMIT 1""",
                [integration_id, source, last_proven_at],
            ).fetchone()
            opened = datetime.fromisoformat(found[0])
            proven_in_s = (datetime.fromisoformat(last_proven_at) - opened).total_seconds()
        out.append(
            DrillRow(
                integration_id,
                integration,
                source,
                int(count or 0),
                _utc(last_drill_at),
                _utc(last_proven_at),
                proven_in_s,
            )
        )
    never = datetime.min.replace(tzinfo=UTC)
    out.sort(key=lambda r: (r.last_proven_at or never, r.integration, r.source))
    return out


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)
