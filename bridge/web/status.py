"""What `GET /api/status` and the status page show of a running bridge (read-only)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.core.outbox import OutboxStats
from bridge.sinks.http import HttpSink

if TYPE_CHECKING:
    from bridge.app.runtime import Runtime


def unconfigured_targets(runtime: Runtime, now: datetime) -> dict[str, OutboxStats]:
    """Targets no longer configured that still hold presses (pending or dead), by name.

    Their rows are kept, never delivered elsewhere: put the target back under
    `[[forward]]` (same `name`) and they go out in order.
    """
    configured = {sink.name for sink in runtime.sinks}
    found: dict[str, OutboxStats] = {}
    for name in runtime.outbox.targets():
        if name not in configured:
            tstats = runtime.outbox.stats(now, name)
            if tstats.pending or tstats.dead:
                found[name] = tstats
    return found


def _urls(sink: object) -> dict[str, Any]:
    """A webhook target's URLs and the one in use (failover); nothing for other sinks."""
    if not isinstance(sink, HttpSink):
        return {}
    return {"url": sink.url, "urls": list(sink.urls)}


def status_of(runtime: Runtime) -> dict[str, Any]:
    """The body of `GET /api/status`: sources, buttons, outbox, targets, health alerts."""
    now = runtime.clock()
    stats = runtime.outbox.stats(now)
    sources: list[dict[str, Any]] = [
        {"name": s.name, "state": s.state, "detail": s.detail, "since": s.since.isoformat()}
        for s in runtime.supervisors
    ]
    if runtime.hub is not None:
        hub_status: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            hub_status = dict(runtime.hub.status())
        sources.append({"name": "hub", "state": hub_status.pop("state", "listening"), **hub_status})
    targets = []
    for dispatcher in runtime.dispatchers:
        tstats = runtime.outbox.stats(now, dispatcher.sink.name)
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
    for name, tstats in unconfigured_targets(runtime, now).items():
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
        "bridge": runtime.config.bridge.name,
        "sources": sources,
        "buttons": [runtime.registry.as_json(s) for s in runtime.registry.states()],
        "outbox": {
            "pending": stats.pending,
            "oldest_age_s": None if stats.oldest_age_s is None else round(stats.oldest_age_s, 3),
            "delivered": stats.delivered,
            "dead": stats.dead,
            # [limits]: at the cap the oldest delivered clicks are forgotten; `full` means only
            # pending and dead ones are left (still stored: nothing is dropped)
            "max_clicks": runtime.outbox.max_clicks,
            "full": runtime.outbox.is_full(),
            "forgotten": runtime.outbox.forgotten,
        },
        "unknown_buttons": {
            "count": runtime.registry.unknown(),
            "max": runtime.registry.max_unknown,
            "forgotten": runtime.registry.forgotten,
        },
        "targets": targets,
        "health": [
            {"alert": c.key, "check": c.check, "info": c.info}
            for c in runtime.health.active.values()
        ],
    }
