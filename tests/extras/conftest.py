"""Fixtures for the extras: an in-process alert server with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.api.extras import extras_plugin
from server.app import core_plugin
from tests.server.conftest import InProcess, in_process

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@dataclass
class MovableClock:
    """The server's injected clock: stands still until the test moves it."""

    at: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


# In process the escalation scheduler is left out: paging is shown end to end against the
# real program (test_journey_e2e.py), and its task can hang on cancel under Python 3.11's
# asyncio.wait_for when an alert opens just before shutdown (reported to its owner).
PLUGINS = (core_plugin, extras_plugin)


@pytest.fixture
async def app(tmp_path: Path, clock: MovableClock) -> AsyncIterator[InProcess]:
    """The app in-process on a temp data dir, on the movable clock."""
    async with in_process(tmp_path / "data", clock=clock, plugins=PLUGINS) as running:
        yield running
