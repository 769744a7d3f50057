"""The one silence rule behind heartbeats and bridge reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.inbound.silence import is_silent, silent_from

HEARD = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_a_sender_is_silent_from_the_threshold_on_not_before() -> None:
    assert silent_from(HEARD, 90) == HEARD + timedelta(seconds=90)
    assert not is_silent(HEARD, 90, None, HEARD + timedelta(seconds=89.999))
    assert is_silent(HEARD, 90, None, HEARD + timedelta(seconds=90))
    assert is_silent(HEARD, 90, None, HEARD + timedelta(days=3))


def test_one_alert_per_silent_stretch() -> None:
    alerted = HEARD + timedelta(seconds=95)
    assert not is_silent(HEARD, 90, alerted, HEARD + timedelta(seconds=200))
