"""Kind `alertmanager`: the Prometheus Alertmanager webhook (version 4), one alert per item.

`split_alerts` is pure: the webhook body gives one payload per entry of `alerts[]`, each the
group's fields overlaid with the alert's own (`status`, `labels`, `annotations`, ...) and a
`fingerprint` (Alertmanager's, else a hash of the labels). Each runs through the
integration's mapping on its own, so `firing` opens and `resolved` closes that alert only.
Unknown keys are kept, missing optional ones are simply absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from server.alerts.store import Integration
from server.context import AppContext
from server.inbound.api import outcome_body
from server.inbound.bodies import BodyError, parse_body
from server.inbound.mapping import Decision, MappingError, decide
from server.inbound.recording import record

log = logging.getLogger("server.kinds_alertmanager")

MAX_ALERTS = 1000


def labels_fingerprint(labels: Any) -> str:
    """A stable key for an alert without `fingerprint`: a hash of its sorted labels."""
    text = json.dumps(labels if isinstance(labels, Mapping) else {}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_alerts(body: Any) -> list[dict[str, Any]] | str:
    """One payload per alert, or the reason the body is not an Alertmanager webhook."""
    if not isinstance(body, Mapping):
        return "the body is not a JSON object"
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        return "field alerts is missing or not a list"
    if not alerts:
        return "field alerts is empty"
    if len(alerts) > MAX_ALERTS:
        return f"more than {MAX_ALERTS} alerts in one body"
    group = {k: v for k, v in body.items() if k != "alerts"}
    out: list[dict[str, Any]] = []
    for index, alert in enumerate(alerts):
        if not isinstance(alert, Mapping):
            out.append({**group, "alert_index": index, "invalid": True})
            continue
        fingerprint = alert.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            fingerprint = labels_fingerprint(alert.get("labels"))
        out.append({**group, **alert, "fingerprint": fingerprint, "alert_index": index})
    return out


async def handle_alertmanager(
    ctx: AppContext, integration: Integration, raw: bytes, content_type: str, key: str | None
) -> JSONResponse:
    """Each alert of the webhook is logged and mapped as its own message."""
    try:
        parsed: Any = parse_body(raw, content_type).payload
    except BodyError as exc:
        parsed = None
        problem = f"unreadable body: {exc}"
    else:
        found = split_alerts(parsed)
        problem = found if isinstance(found, str) else ""
    if problem:
        failed = Decision("failed", f"not an Alertmanager webhook: {problem}")
        outcome = await record(
            ctx, integration, raw, content_type, failed, key=key, http_status=422
        )
        return JSONResponse(outcome_body(outcome), status_code=422)
    assert not isinstance(found, str)
    try:
        mapping = ctx.compiled_mapping(integration)
    except MappingError as exc:
        mapping = None
        bad_mapping = f"the integration's mapping is invalid: {exc}"
    items = []
    for alert in found:
        if alert.get("invalid") is True:
            decision = Decision("failed", f"alerts^{alert['alert_index']} is not an object")
        elif mapping is None:
            decision = Decision("failed", bad_mapping)
        else:
            decision = decide(alert, mapping)
        item_key = None if key is None else f"{key}#{alert['alert_index']}"
        body = json.dumps(alert, ensure_ascii=False).encode()
        outcome = await record(ctx, integration, body, "application/json", decision, key=item_key)
        items.append(outcome_body(outcome))
    log.info(
        "alertmanager webhook integration=%d: %d alert(s): %s",
        integration.id,
        len(items),
        ", ".join(f"{i['status']}/{i['action']}" for i in items),
    )
    first = items[0]
    return JSONResponse({**first, "items": items}, status_code=202)
