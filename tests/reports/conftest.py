"""Fixtures for reports: the in-process app on a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.conftest import InProcess, in_process


@pytest.fixture
async def inproc(tmp_path: Path) -> AsyncIterator[InProcess]:
    """The default app in-process on a temp data dir."""
    async with in_process(tmp_path / "data") as running:
        yield running
