"""PagerDuty change events (`POST /v2/change/enqueue`): a note on the live alert, or info.

PagerDuty shows a change event beside the incidents of its service ("recent changes"); it
has no dedup_key. Here it becomes a timeline note (kind `note`) on the integration's newest
open or acknowledged alert, logged `mapped_appended` with action `note` and that alert's id;
with no live alert it is logged `mapped_ignored` (action `ignore`) and the server logs it at
INFO. Either way the answer is PagerDuty's 202; an invalid one is 400 and `mapping_failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from server.alerts.store import Alert, Integration
from server.context import AppContext
from server.inbound.mapping import Decision
from server.inbound.recording import record
from server.integrations.kinds.pagerduty import MAX_SUMMARY, EventBodyError, invalid, read_json

log = logging.getLogger("server.kinds_pagerduty_change")

MAX_NOTE = 1000


def change_errors(body: Any) -> list[str]:
    """What PagerDuty's `400 invalid event` names for a change event (empty when valid)."""
    if not isinstance(body, Mapping):
        return ["Event object must be a JSON object"]
    errors: list[str] = []
    key = body.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        errors.append("'routing_key' is missing or blank")
    payload = body.get("payload")
    if not isinstance(payload, Mapping):
        return [*errors, "'payload' is missing or not an object"]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is longer than {MAX_SUMMARY} characters")
    source = payload.get("source")
    if source is not None and not isinstance(source, str):
        errors.append("'payload.source' must be a string")
    return errors


def note_text(payload: Mapping[str, Any]) -> str:
    """The timeline line: `change: <summary> (source <source>)`."""
    text = f"change: {payload['summary']}"
    if payload.get("source"):
        text += f" (source {payload['source']})"
    return text[:MAX_NOTE]


def change_accepted() -> JSONResponse:
    """PagerDuty's 202 for a change event."""
    return JSONResponse({"status": "success", "message": "Change event processed"}, status_code=202)


async def newest_live_alert(ctx: AppContext, integration_id: int) -> Alert | None:
    """The integration's newest open or acknowledged alert."""

    def newest() -> Alert | None:
        found = [
            *ctx.store.list_alerts(status="open", integration_id=integration_id, limit=1),
            *ctx.store.list_alerts(status="acknowledged", integration_id=integration_id, limit=1),
        ]
        return max(found, key=lambda alert: alert.id, default=None)

    return await ctx.db.run(newest)


async def handle_change(
    ctx: AppContext, integration: Integration, raw: bytes, content_type: str, key: str | None
) -> JSONResponse:
    """One change event for `integration` (found by its routing_key)."""
    try:
        body = read_json(raw)
        errors = change_errors(body)
    except EventBodyError as exc:
        errors = [str(exc)]
    if errors:  # refused, and kept in the inbound log with the reason
        failed = Decision("failed", "invalid PagerDuty change event: " + "; ".join(errors))
        await record(ctx, integration, raw, content_type, failed, key=key, http_status=400)
        return invalid("Event object is invalid", errors)
    note = note_text(body["payload"])
    live = await newest_live_alert(ctx, integration.id)
    if live is None:
        decision = Decision("note", note)
    else:
        decision = Decision("note", note, live.source_name, live.source_id)
    outcome = await record(ctx, integration, raw, content_type, decision, key=key)
    log.info(
        "pagerduty change event integration=%d status=%s alert=%s: %s",
        integration.id,
        outcome.status,
        outcome.alert_id,
        note,
    )
    return change_accepted()
