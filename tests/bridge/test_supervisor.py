"""The supervisor keeps a failing source coming back and logs it the way an operator wants."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bridge.core.supervisor import Supervisor
from bridge.errors import SourceError
from bridge.models import ClickType, RawClick, SourceEvent, SourceState

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


class FlakySource:
    """Fails `failures` times, then connects, yields one click and ends on purpose."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def events(self) -> AsyncIterator[SourceEvent]:
        self.calls += 1
        if self.calls <= self.failures:
            raise SourceError(f"refused #{self.calls}")
        yield SourceState(self.name, "up", NOW)
        yield RawClick("80:e4:da:71:23:45", ClickType.SINGLE, self.name, NOW)


async def test_failures_back_off_then_recovery_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got: list[SourceEvent] = []
    delays: list[float] = []

    async def keep(event: SourceEvent) -> None:
        got.append(event)

    async def sleep(delay_s: float) -> None:
        delays.append(delay_s)

    source = FlakySource(failures=4)
    supervisor = Supervisor(source, keep, clock=lambda: NOW, rand=lambda: 1.0, sleep=sleep)
    with caplog.at_level(logging.DEBUG, logger="bridge.core.supervisor"):
        await supervisor.run()

    assert [type(e).__name__ for e in got] == ["SourceState", "RawClick"]
    assert delays == sorted(delays)
    assert len(delays) == 4
    assert all(d <= 30 for d in delays)
    levels = [r.levelname for r in caplog.records]
    assert levels == ["WARNING", "DEBUG", "DEBUG", "DEBUG", "INFO", "INFO"]
    assert "refused #1" in caplog.records[0].getMessage()
    assert "connected again after 4 failed attempts" in caplog.records[4].getMessage()
    assert supervisor.state == "stopped"
