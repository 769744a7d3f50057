"""The one way both programs write a moment: ISO 8601 UTC with milliseconds and a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(at: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with milliseconds and a `Z`."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def file_stamp(at: datetime) -> str:
    """A moment as a compact UTC stamp fit for a file name, e.g. `20261126T070000Z`."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
