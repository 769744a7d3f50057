"""`python -m tests.ops.wedge_server ARGS`: the real `alert-server`, whose escalation tick
blocks for good (the event loop stays free) once the file named by $WEDGE_FILE exists."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from server import cli
from server.escalation.scheduler import Scheduler

_real_tick = Scheduler.tick


async def _tick(self: Scheduler) -> None:
    if Path(os.environ["WEDGE_FILE"]).exists():
        await asyncio.Event().wait()  # stuck in the tick, as a hung await would be
    await _real_tick(self)


if __name__ == "__main__":
    Scheduler.tick = _tick  # type: ignore[method-assign]
    sys.exit(cli.main())
