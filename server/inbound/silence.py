"""The silence rule both watchers share: a heartbeat that missed its ping, a bridge that stopped
reporting. Pure (takes `now`); each watcher sends its own open/close message through
`recording.record_json`.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def silent_from(last_heard_at: datetime, silent_after_s: float) -> datetime:
    """When a sender last heard at `last_heard_at` counts as silent if nothing arrives first."""
    return last_heard_at + timedelta(seconds=silent_after_s)


def is_silent(
    last_heard_at: datetime, silent_after_s: float, alerted_at: datetime | None, now: datetime
) -> bool:
    """Silent and not yet alerted (one alert per silent stretch)."""
    return alerted_at is None and now >= silent_from(last_heard_at, silent_after_s)
