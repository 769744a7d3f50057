"""Report request parameters: a time range and a grouping, checked with errors that name them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from server.errors import AlertServerError
from server.reports.queries import GROUP_BYS, GroupBy

DEFAULT_RANGE = timedelta(days=7)
# An unencoded "+02:00" in a query string arrives as " 02:00": put the plus back.
_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


class ReportParamError(AlertServerError):
    """A report parameter is malformed (the API answers 422 with this text)."""


@dataclass(frozen=True, slots=True)
class ReportRange:
    from_at: datetime
    to_at: datetime
    group_by: GroupBy


def parse_time(name: str, text: str) -> datetime:
    """An ISO 8601 time with a UTC offset, e.g. 2026-03-29T00:00:00+01:00 or ...Z."""
    cleaned = _SPACED_OFFSET.sub(r"+\1", text.strip())
    try:
        at = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise ReportParamError(
            f"{name}: {text!r} is not an ISO time (e.g. 2026-03-29T00:00:00+01:00)"
        ) from exc
    if at.tzinfo is None:
        raise ReportParamError(f"{name}: {text!r} has no UTC offset (add Z or +01:00)")
    return at


def parse_range(
    from_text: str | None, to_text: str | None, group_by: str | None, *, now: datetime
) -> ReportRange:
    """The checked range; missing ends default to the 7 days up to now (or from `from`)."""
    from_at = parse_time("from", from_text) if from_text else None
    to_at = parse_time("to", to_text) if to_text else None
    if to_at is None:
        to_at = now if from_at is None else max(now, from_at)
    if from_at is None:
        from_at = to_at - DEFAULT_RANGE
    if from_at > to_at:
        raise ReportParamError(f"from ({from_at.isoformat()}) is after to ({to_at.isoformat()})")
    chosen = group_by or "source"
    if chosen not in GROUP_BYS:
        raise ReportParamError(f"group_by: unknown {chosen!r} (one of {', '.join(GROUP_BYS)})")
    return ReportRange(from_at, to_at, cast(GroupBy, chosen))
