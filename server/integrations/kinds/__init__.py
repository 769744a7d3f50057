"""Integration kinds and the default mapping (and sample data) each one starts with."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from server.inbound.mapping import FLIC_DEFAULT_MAPPING, FLIC_SAMPLE_DATA, MappingSpec

KINDS = ("flic", "generic", "pagerduty", "alertmanager")

_DEFAULTS: dict[str, tuple[dict[str, Any], Any]] = {
    "flic": (FLIC_DEFAULT_MAPPING, FLIC_SAMPLE_DATA),
    # Prometheus Alertmanager webhook v4: each entry of alerts[] is its own alert, keyed by
    # fingerprint (server/kinds_alertmanager.py splits the body); firing opens, resolved closes.
    "alertmanager": (
        {
            "source_name": {"field": "fingerprint"},
            "status": {"field": "status"},
            "open_when": {"equals": "firing"},
            "close_when": {"equals": "resolved"},
            "title": (
                "{{ (labels or {}).alertname or fingerprint }}"
                "{% if (annotations or {}).summary %}: {{ annotations.summary }}{% endif %}"
            ),
            "description": "{{ (annotations or {}).description or '' }}",
            "filters": [],
        },
        # The sample is one alert as the mapping sees it: the group's fields under its own.
        {
            "version": "4",
            "groupKey": '{}:{alertname="DiskFull"}',
            "receiver": "flic-edge",
            "commonLabels": {"alertname": "DiskFull"},
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db1"},
            "annotations": {"summary": "Disk is full"},
            "startsAt": "2026-11-26T07:00:00Z",
            "fingerprint": "c2a1b0d3e4f50617",
            "alert_index": 0,
        },
    ),
    # PagerDuty Events API v2: dedup_key names the alert; trigger opens, resolve closes.
    "pagerduty": (
        {
            "source_name": {"field": "dedup_key"},
            "status": {"field": "event_action"},
            "open_when": {"equals": "trigger"},
            "close_when": {"equals": "resolve"},
            # `payload` is PagerDuty's payload (a body's own keys win in templates).
            "title": "{{ payload.summary or dedup_key }}",
            "description": "{{ payload.severity or '' }} on {{ payload.source or '?' }}",
            "filters": [],
        },
        {
            "routing_key": "example",
            "event_action": "trigger",
            "dedup_key": "disk-full-db1",
            "payload": {"summary": "Disk full on db1", "source": "db1", "severity": "critical"},
        },
    ),
}


def default_mapping(kind: str) -> dict[str, Any] | None:
    """A fresh copy of the kind's default mapping; None for `generic` (it needs one given)."""
    found = _DEFAULTS.get(kind)
    return None if found is None else copy.deepcopy(found[0])


def default_sample(kind: str) -> Any:
    found = _DEFAULTS.get(kind)
    return None if found is None else copy.deepcopy(found[1])


def resolve_mapping(kind: str, mapping: MappingSpec | None) -> dict[str, Any]:
    """The mapping to store: the given one, else the kind's default; raises ValueError."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if mapping is not None:
        return mapping.model_dump(exclude_none=True)
    found = default_mapping(kind)
    if found is None:
        raise ValueError(f"kind {kind!r} needs a mapping")
    return found


def parse_mapping_json(text: str) -> dict[str, Any]:
    """A mapping given as JSON text (the CLI's `--mapping`); raises ValueError naming problems."""
    try:
        return MappingSpec.model_validate_json(text).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc
