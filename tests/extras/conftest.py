"""Fixtures for the extras: an in-process alert server with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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


@pytest.fixture
async def app(
    tmp_path: Path, clock: MovableClock, engine: dict[str, str]
) -> AsyncIterator[InProcess]:
    """The app in-process on a temp data dir, on the movable clock (and the engine's database)."""
    async with in_process(tmp_path / "data", engine, clock=clock) as running:
        yield running
