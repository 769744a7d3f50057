"""Acknowledgement timeouts: an acknowledged alert not closed in time is open again.

The due alerts are read from the database each round (acknowledged_at and the paging
policy's `ack_timeout_s`), so a restart in between changes nothing: the next round finds them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from server.db.engine import Database
from server.escalation.paging import Clock

if TYPE_CHECKING:
    from server.context import AppContext

log = logging.getLogger(__name__)


def due(db: Database, now: datetime) -> list[tuple[int, int]]:
    """(alert id, timeout) of each acknowledged alert past its policy's `ack_timeout_s`."""
    rows = db.execute(
        """SELECT a.id, a.acknowledged_at, p.ack_timeout_s FROM alerts a
           JOIN escalations e ON e.alert_id = a.id
           JOIN escalation_policies p ON p.id = e.policy_id
           WHERE a.status = 'acknowledged' AND p.ack_timeout_s IS NOT NULL"""
    ).fetchall()
    return [
        (alert_id, timeout)
        for alert_id, acked, timeout in rows
        if acked and datetime.fromisoformat(acked) + timedelta(seconds=timeout) <= now
    ]


async def reopen_due(ctx: AppContext, clock: Clock) -> int:
    """Open every due alert again (each publishes a `reopen` change); how many."""
    now = clock()
    count = 0
    for alert_id, timeout in await ctx.db.run(due, ctx.store.db, now):
        detail = (
            f"acknowledged but not closed within {timeout} s (ack_timeout_s): "
            "open again, escalating from the first step"
        )
        change = await ctx.db.run(ctx.store.reopen_alert, alert_id, now, detail)
        if change is not None:
            log.info("alert %d: acknowledgement timed out (%d s); open again", alert_id, timeout)
            ctx.events.publish(change)
            count += 1
    return count


async def reopen_forever(ctx: AppContext, clock: Clock, every_s: float) -> None:
    """The supervised task: check every `every_s` (at least once a second)."""
    while True:
        await reopen_due(ctx, clock)
        await asyncio.sleep(min(every_s, 1.0))
