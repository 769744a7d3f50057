"""Kind `pagerduty`: PagerDuty Events API v2 bodies, on the inbound URL and on `/v2/enqueue`.

`parse_event` is pure: a parsed body gives an `Event` or the list of problems PagerDuty's
`400 invalid event` answer names. The handler maps a trigger through the integration's
mapping (dedup_key is the source name), acknowledges the live alert on `acknowledge` (logged
`mapped`, action `acknowledge`, linked to the alert), and closes it on `resolve`. Change events
(`/v2/change/enqueue`) are in `kinds_pagerduty_change`.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from server.alerts.store import InboundOutcome, Integration
from server.context import AppContext
from server.errors import AlertServerError
from server.inbound.bodies import lone_surrogate
from server.inbound.mapping import Decision, MappingError, decide
from server.inbound.recording import record

log = logging.getLogger(__name__)

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_DEPTH = 64  # custom_details nest; deeper than this is an attack, not an alert


@dataclass(frozen=True, slots=True)
class Event:
    """A valid Events API v2 event; `payload` is the body with `dedup_key` filled in."""

    action: str
    dedup_key: str
    routing_key: str
    payload: dict[str, Any]
    key_generated: bool


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def parse_event(body: Any, new_key: str) -> Event | list[str]:
    """Validate one event as PagerDuty does; a trigger without `dedup_key` gets `new_key`."""
    if not isinstance(body, Mapping):
        return ["Event object must be a JSON object"]
    errors: list[str] = []
    if _blank(body.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    key = body.get("dedup_key")
    if key is not None and (_blank(key) or len(str(key)) > MAX_DEDUP_KEY):
        errors.append(f"'dedup_key' must be a non-blank string of at most {MAX_DEDUP_KEY} chars")
    if action in ("acknowledge", "resolve") and key is None:
        errors.append(f"'dedup_key' is required for event_action {action}")
    if action == "trigger":
        errors.extend(_payload_errors(body.get("payload")))
    if errors:
        return errors
    generated = key is None
    dedup_key = new_key if generated else str(key)
    return Event(
        action=str(action),
        dedup_key=dedup_key,
        routing_key=str(body["routing_key"]),
        payload={**body, "dedup_key": dedup_key},
        key_generated=generated,
    )


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, Mapping):
        return ["'payload' is missing or not an object"]
    errors = []
    summary = payload.get("summary")
    if _blank(summary):
        errors.append("'payload.summary' is missing or blank")
    elif len(str(summary)) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is longer than {MAX_SUMMARY} characters")
    if _blank(payload.get("source")):
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    return errors


def invalid(message: str, errors: list[str]) -> JSONResponse:
    """PagerDuty's 400 shape."""
    return JSONResponse(
        {"status": "invalid event", "message": message, "errors": errors}, status_code=400
    )


def success(dedup_key: str, outcome: InboundOutcome) -> JSONResponse:
    """PagerDuty's 202 shape, plus our inbound-log fields beside it."""
    return JSONResponse(
        {
            "status": "success",
            "message": "Event processed",
            "dedup_key": dedup_key,
            "message_id": outcome.message_id,
            "inbound_status": outcome.status,
            "action": outcome.action,
            "alert_id": outcome.alert_id,
        },
        status_code=202,
    )


def read_json(raw: bytes) -> Any:
    """The parsed body; raises `EventBodyError` naming the problem (PagerDuty answers 400)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"bad byte at offset {exc.start}"
        raise EventBodyError(f"Body is not valid JSON: not UTF-8 ({where})") from exc
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventBodyError(f"Body is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise EventBodyError(f"Body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # Python's int limit: `sys.get_int_max_str_digits()` digits
        limit = sys.get_int_max_str_digits()
        raise EventBodyError(f"Body has an integer longer than {limit} digits") from exc
    if _depth_over(body, MAX_DEPTH):
        raise EventBodyError(f"Body is nested deeper than {MAX_DEPTH} levels")
    problem = lone_surrogate(raw, body)
    if problem is not None:
        raise EventBodyError(f"Body is not valid text: {problem}")
    return body


class EventBodyError(AlertServerError):
    """An Events API body that is not JSON we can take; the message is PagerDuty's error line."""


def _depth_over(value: Any, limit: int) -> bool:
    """True when objects/arrays nest deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def handle_pagerduty(
    ctx: AppContext, integration: Integration, raw: bytes, content_type: str, key: str | None
) -> JSONResponse:
    """One Events API v2 body for `integration` (found by token or routing_key)."""
    try:
        body = read_json(raw)
    except EventBodyError as exc:
        log.warning("integration %d: PagerDuty event refused: %s", integration.id, exc)
        failed = Decision("failed", f"unreadable body: {exc}")
        await record(ctx, integration, raw, content_type, failed, key=key, http_status=400)
        return invalid("Event object is invalid", [str(exc)])
    parsed = parse_event(body, uuid.uuid4().hex)
    if isinstance(parsed, list):
        reason = "invalid PagerDuty event: " + "; ".join(parsed)
        failed = Decision("failed", reason)
        await record(ctx, integration, raw, content_type, failed, key=key, http_status=400)
        return invalid("Event object is invalid", parsed)
    if parsed.action == "acknowledge":
        reason = "acknowledged by PagerDuty event"
        decision = Decision("acknowledge", reason, parsed.dedup_key, "", "acknowledge")
    else:
        try:
            mapping = ctx.compiled_mapping(integration)
        except MappingError as exc:
            decision = Decision("failed", f"the integration's mapping is invalid: {exc}")
        else:
            decision = decide(parsed.payload, mapping)
    outcome = await record(ctx, integration, raw, content_type, decision, key=key)
    dedup_key = parsed.dedup_key
    if outcome.replayed and parsed.key_generated and outcome.alert_id is not None:
        # A repeated Idempotency-Key: answer the key generated the first time.
        dedup_key = (await ctx.db.run(ctx.store.get_alert, outcome.alert_id)).source_name
    log.info(
        "pagerduty %s dedup_key=%s integration=%d status=%s alert=%s",
        parsed.action,
        parsed.dedup_key,
        integration.id,
        outcome.status,
        outcome.alert_id,
    )
    return success(dedup_key, outcome)
