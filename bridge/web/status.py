"""What `GET /api/status` and the status page show of a running bridge (read-only), and the
parts of a bridge the web face is given."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.core.health import HealthMonitor
from bridge.core.outbox import Outbox
from bridge.core.pipeline import ClickPipeline
from bridge.core.registry import ButtonRegistry
from bridge.core.supervisor import Supervisor
from bridge.core.targets import Targets
from bridge.metrics import Metrics
from bridge.sinks.http import HttpSink
from bridge.sources.hub.receiver import HubReceiver


@dataclass(slots=True)
class HubSlot:
    """The hub receiver, if any: one slot the status view and the health check both read."""

    receiver: HubReceiver | None


@dataclass(frozen=True, slots=True)
class WebParts:
    """The parts of a running bridge its HTTP face reads and calls (never the whole parts)."""

    bridge_name: str
    token: str
    pipeline: ClickPipeline
    targets: Targets
    outbox: Outbox
    registry: ButtonRegistry
    supervisors: Sequence[Supervisor]
    hub: HubSlot
    health: HealthMonitor
    metrics: Metrics
    clock: Callable[[], datetime]
    started_at: datetime


def _urls(sink: object) -> dict[str, Any]:
    """A webhook target's URLs and the one in use (failover); nothing for other sinks."""
    if not isinstance(sink, HttpSink):
        return {}
    return {"url": sink.url, "urls": list(sink.urls)}


def status_of(parts: WebParts) -> dict[str, Any]:
    """The body of `GET /api/status`: sources, buttons, outbox, targets, health alerts."""
    now = parts.clock()
    stats = parts.outbox.stats(now)
    sources: list[dict[str, Any]] = [
        {"name": s.name, "state": s.state, "detail": s.detail, "since": s.since.isoformat()}
        for s in parts.supervisors
    ]
    if parts.hub.receiver is not None:
        hub_status: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            hub_status = dict(parts.hub.receiver.status())
        sources.append({"name": "hub", "state": hub_status.pop("state", "listening"), **hub_status})
    targets = []
    for dispatcher in parts.targets.dispatchers:
        tstats = parts.outbox.stats(now, dispatcher.sink.name)
        targets.append(
            {
                "name": dispatcher.sink.name,
                "configured": True,
                "pending": tstats.pending,
                "dead": tstats.dead,
                "delivered": tstats.delivered,
                "failing_since": None
                if dispatcher.failing_since is None
                else dispatcher.failing_since.isoformat(),
                "last_error": dispatcher.last_error,
                **_urls(dispatcher.sink),
            }
        )
    for name, tstats in parts.targets.unconfigured(now).items():
        targets.append(
            {
                "name": name,
                "configured": False,
                "pending": tstats.pending,
                "dead": tstats.dead,
                "delivered": tstats.delivered,
                "failing_since": None,
                "last_error": None,
            }
        )
    return {
        "bridge": parts.bridge_name,
        "sources": sources,
        "buttons": [parts.registry.as_json(s) for s in parts.registry.states()],
        "outbox": {
            "pending": stats.pending,
            "oldest_age_s": None if stats.oldest_age_s is None else round(stats.oldest_age_s, 3),
            "delivered": stats.delivered,
            "dead": stats.dead,
            # [limits]: at the cap the oldest delivered clicks are forgotten; `full` means only
            # pending and dead ones are left (still stored: nothing is dropped)
            "max_clicks": parts.outbox.max_clicks,
            "full": parts.outbox.is_full(),
            "forgotten": parts.outbox.forgotten,
        },
        "unknown_buttons": {
            "count": parts.registry.unknown(),
            "max": parts.registry.max_unknown,
            "forgotten": parts.registry.forgotten,
        },
        "targets": targets,
        "health": [
            {"alert": c.key, "check": c.check, "info": c.info} for c in parts.health.active.values()
        ],
    }
