"""Acknowledge or close an alert as a person: commit, then publish the `AlertChange`.

Use these (not the store directly) from the API, the console, escalation links and chat
replies, so every change reaches the subscribers. They raise `NotFoundError` or `ConflictError`.
"""

from __future__ import annotations

from server.alerts.model import Alert
from server.context import AppContext


async def acknowledge_alert(ctx: AppContext, alert_id: int, *, by: str = "admin") -> Alert:
    """Open → acknowledged (it stays matched: repeats append, the close message closes)."""
    change = await ctx.db.run(ctx.store.acknowledge_alert, alert_id, ctx.clock(), by)
    ctx.events.publish(change)
    return await ctx.db.run(ctx.store.get_alert, alert_id)


async def close_alert(ctx: AppContext, alert_id: int, *, by: str = "admin") -> Alert:
    """Open or acknowledged → closed."""
    change = await ctx.db.run(ctx.store.close_alert, alert_id, ctx.clock(), by)
    ctx.events.publish(change)
    return await ctx.db.run(ctx.store.get_alert, alert_id)
