"""Fixtures for reports: the in-process app on a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from server.alerts.model import iso
from tests.server.conftest import InProcess, in_process


@pytest.fixture
async def inproc(tmp_path: Path, engine: dict[str, str]) -> AsyncIterator[InProcess]:
    """The default app in-process on a temp data dir (and the engine's database)."""
    async with in_process(tmp_path / "data", engine) as running:
        yield running


def seed_alert(
    running: InProcess,
    integration_id: int,
    source: str,
    opened_at: datetime,
    *,
    ack_after_s: float | None = None,
    close_after_s: float | None = None,
    drill: bool = False,
    priority: str = "normal",
) -> None:
    """Store one alert with exact times (only the database thread touches SQLite)."""
    acked = None if ack_after_s is None else opened_at + timedelta(seconds=ack_after_s)
    closed = None if close_after_s is None else opened_at + timedelta(seconds=close_after_s)
    status = "closed" if closed else "acknowledged" if acked else "open"
    # Past alerts of one source are closed; only the newest may be live (the dedupe index).
    running.ctx.store.db.execute(
        """INSERT INTO alerts (integration_id, source_name, source_id, status, title,
           opened_at, acknowledged_at, closed_at, updated_at, priority, drill)
           VALUES (?, ?, '', ?, 'call', ?, ?, ?, ?, ?, ?)""",
        [
            integration_id,
            source,
            status,
            iso(opened_at),
            None if acked is None else iso(acked),
            None if closed is None else iso(closed),
            iso(opened_at),
            priority,
            int(drill),
        ],
    )
