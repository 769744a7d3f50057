"""Record one already-judged message through the inbound log (for kinds with their own format)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.alerts.store import InboundMessage, InboundOutcome, Integration
from server.context import AppContext
from server.inbound.mapping import Decision, MappingError, decide
from server.inbound.pipeline import suppressed_at


async def record(
    ctx: AppContext,
    integration: Integration,
    raw: bytes,
    content_type: str,
    decision: Decision,
    *,
    key: str | None,
    http_status: int = 202,
    now: datetime | None = None,
) -> InboundOutcome:
    """Log one judged message (and act on it) durably, then publish the alert changes."""
    now = ctx.clock() if now is None else now
    suppressed = await suppressed_at(ctx, integration, now)
    message = InboundMessage(integration.id, now, raw, content_type, key)
    result = await ctx.db.run(
        ctx.store.record_inbound, message, decision, http_status=http_status, suppressed=suppressed
    )
    if not result.outcome.replayed:
        ctx.metrics.inc("alert_server_inbound_messages_total", status=result.outcome.status)
    for change in result.changes:
        ctx.events.publish(change)
    return result.outcome


async def record_json(
    ctx: AppContext, integration: Integration, body: dict[str, Any], now: datetime
) -> InboundOutcome:
    """Judge a body the server wrote itself with the integration's mapping, and record it."""
    try:
        decision = decide(body, ctx.compiled_mapping(integration))
    except MappingError as exc:
        decision = Decision("failed", f"the integration's mapping is invalid: {exc}")
    raw = json.dumps(body).encode()
    return await record(ctx, integration, raw, "application/json", decision, key=None, now=now)
