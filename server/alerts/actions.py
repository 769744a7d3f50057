"""Acknowledge or close an alert as a person: commit, then publish the `AlertChange`.

Use these (not the store directly) from the API, the console, escalation links and chat
replies, so every change reaches the subscribers. They raise `NotFoundError` or `ConflictError`.
"""

from __future__ import annotations

from server.alerts.model import Alert, ConflictError, NotFoundError
from server.context import AppContext


class CloseRefusedError(ConflictError):
    """The integration is `close_from_source_only`: a person may acknowledge, not close."""


async def acknowledge_alert(ctx: AppContext, alert_id: int, *, by: str = "admin") -> Alert:
    """Open → acknowledged (it stays matched: repeats append, the close message closes)."""
    change = await ctx.db.run(ctx.store.acknowledge_alert, alert_id, ctx.clock(), by)
    ctx.events.publish(change)
    return await ctx.db.run(ctx.store.get_alert, alert_id)


async def close_alert(ctx: AppContext, alert_id: int, *, by: str = "admin") -> Alert:
    """Open or acknowledged → closed; CloseRefusedError when only the source may close it."""
    alert = await ctx.db.run(ctx.store.get_alert, alert_id)
    try:
        integration = await ctx.db.run(ctx.store.get_integration, alert.integration_id)
    except NotFoundError:  # its integration was deleted: nothing left to insist on the source
        integration = None
    if integration is not None and integration.close_from_source_only and alert.status != "closed":
        raise CloseRefusedError(
            f"alert {alert_id} can only be closed at its source ({alert.source_name}: the "
            f"button's Off), because integration {integration.name!r} is "
            "close_from_source_only; acknowledge it instead"
        )
    change = await ctx.db.run(ctx.store.close_alert, alert_id, ctx.clock(), by)
    ctx.events.publish(change)
    return await ctx.db.run(ctx.store.get_alert, alert_id)
