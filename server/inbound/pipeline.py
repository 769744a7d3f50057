"""The inbound pipeline: judge a raw message with its integration's mapping, record it, publish."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from server.alerts.store import InboundJob, InboundMessage, InboundOutcome, Integration
from server.context import AppContext
from server.inbound.bodies import BodyError, parse_body
from server.inbound.mapping import Decision, MappingError, decide

log = logging.getLogger("server.inbound")


@dataclass(frozen=True, slots=True)
class Judgement:
    decision: Decision
    http_status: int


def judge(ctx: AppContext, integration: Integration, raw: bytes, content_type: str) -> Judgement:
    """Parse and map one body; an unreadable body is a 422 `failed` decision, never an exception."""
    try:
        parsed = parse_body(raw, content_type)
    except BodyError as exc:
        log.warning("integration %d: unreadable body: %s", integration.id, exc)
        return Judgement(Decision("failed", f"unreadable body: {exc}"), 422)
    try:
        mapping = ctx.compiled_mapping(integration)
    except MappingError as exc:
        return Judgement(Decision("failed", f"the integration's mapping is invalid: {exc}"), 202)
    return Judgement(decide(parsed.payload, mapping), 202)


def in_maintenance(integration: Integration, now: datetime) -> bool:
    return integration.maintenance_until is not None and now < integration.maintenance_until


async def suppressed_at(ctx: AppContext, integration: Integration, now: datetime) -> bool:
    """In maintenance: `maintenance_until`, or any registered window check (plugins)."""
    if in_maintenance(integration, now):
        return True
    checks = list(ctx.maintenance_checks)
    if not checks:
        return False
    return await ctx.db.run(lambda: any(check(integration.id, now) for check in checks))


async def accept(
    ctx: AppContext,
    integration: Integration,
    raw: bytes,
    content_type: str,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> InboundOutcome:
    """Judge, store durably (the commit is on disk on return) and publish its alert changes."""
    received_at = ctx.clock() if now is None else now
    verdict = judge(ctx, integration, raw, content_type)
    message = InboundMessage(
        integration_id=integration.id,
        received_at=received_at,
        raw_body=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
    )
    job = InboundJob(
        message,
        verdict.decision,
        http_status=verdict.http_status,
        suppressed=in_maintenance(integration, received_at),
        window_checks=tuple(ctx.maintenance_checks),
    )
    outcome = (await ctx.inbound.submit(job)).outcome
    if not outcome.replayed:
        ctx.metrics.inc("alert_server_inbound_messages_total", status=outcome.status)
    log.info(
        "inbound message %s integration=%d status=%s action=%s alert=%s%s",
        outcome.message_id,
        integration.id,
        outcome.status,
        outcome.action,
        outcome.alert_id,
        " (replay)" if outcome.replayed else "",
    )
    return outcome


async def record_too_large(
    ctx: AppContext, integration: Integration, head: bytes, content_type: str, limit: int
) -> InboundOutcome:
    """Log an over-limit body as `mapping_failed` (first bytes only) and return its 413 outcome."""
    message = InboundMessage(
        integration_id=integration.id,
        received_at=ctx.clock(),
        raw_body=head[:4096],
        content_type=content_type,
        body_truncated=True,
    )
    decision = Decision("failed", f"body larger than the {limit}-byte limit")
    result = await ctx.inbound.submit(InboundJob(message, decision, http_status=413))
    ctx.metrics.inc("alert_server_inbound_messages_total", status=result.outcome.status)
    return result.outcome
