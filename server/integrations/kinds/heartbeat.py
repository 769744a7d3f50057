"""Heartbeat integrations: a missed ping interval opens one alert, the next ping closes it.

`inbound.silence.is_silent` is pure (takes `now`); `HeartbeatMonitor` drives it with the app's
injected clock and sends its open/close messages through the normal inbound pipeline, so they are
logged, deduplicated, suppressed in maintenance windows and escalated like any other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from server.alerts.model import iso
from server.alerts.store import InboundOutcome, Integration
from server.context import AppContext
from server.inbound.recording import record_json
from server.inbound.silence import is_silent, silent_from
from server.integrations.extras_store import ExtrasStore, Heartbeat

log = logging.getLogger("server.heartbeats")

KIND = "heartbeat"
CHECK_EVERY_S = 5.0

DEFAULT_MAPPING: dict[str, Any] = {
    "source_name": {"field": "heartbeat"},
    "status": {"field": "status"},
    "open_when": {"equals": "missed"},
    "close_when": {"equals": "ok"},
    "title": "{{ heartbeat }} missed its heartbeat",
    "description": "No ping since {{ last_ping_at or 'it was created' }} (expected every "
    "{{ interval_s }} s).",
    "filters": [],
}


def last_heard_at(hb: Heartbeat) -> datetime:
    return hb.last_ping_at or hb.created_at


def allowed_s(hb: Heartbeat) -> float:
    """How long a heartbeat may stay quiet before it counts as missed."""
    return hb.interval_s + hb.grace_s


def due_at(hb: Heartbeat) -> datetime:
    """When the heartbeat counts as missed if no ping arrives first."""
    return silent_from(last_heard_at(hb), allowed_s(hb))


def state_of(hb: Heartbeat, now: datetime) -> str:
    """`new` (never pinged), `up`, or `missed`."""
    if hb.missed_at is not None or now >= due_at(hb):
        return "missed"
    return "new" if hb.last_ping_at is None else "up"


def heartbeat_json(hb: Heartbeat, now: datetime) -> dict[str, Any]:
    return {
        "id": hb.integration_id,
        "name": hb.name,
        "interval_s": hb.interval_s,
        "grace_s": hb.grace_s,
        "token": hb.token,
        "ping_path": f"/ping/{hb.token}",
        "last_ping_at": hb.last_ping_at,
        "missed_at": hb.missed_at,
        "next_due_at": due_at(hb),
        "state": state_of(hb, now),
        "created_at": hb.created_at,
    }


class HeartbeatMonitor:
    """Checks every heartbeat against the clock and handles pings."""

    def __init__(self, ctx: AppContext, store: ExtrasStore) -> None:
        self._ctx = ctx
        self._store = store

    async def check(self, now: datetime | None = None) -> list[InboundOutcome]:
        """Open an alert for each heartbeat that has just become overdue."""
        now = self._ctx.clock() if now is None else now
        found: list[InboundOutcome] = []
        for hb in await self._ctx.db.run(self._store.heartbeats):
            if not is_silent(last_heard_at(hb), allowed_s(hb), hb.missed_at, now):
                continue
            body = {
                "heartbeat": hb.name,
                "status": "missed",
                "last_ping_at": None if hb.last_ping_at is None else iso(hb.last_ping_at),
                "due_at": iso(due_at(hb)),
                "interval_s": hb.interval_s,
            }
            await self._ctx.db.run(self._store.set_missed, hb.integration_id, now)
            outcome = await self._send(hb.integration_id, body, now)
            log.warning(
                "heartbeat %s missed (due %s): %s", hb.name, iso(due_at(hb)), outcome.status
            )
            found.append(outcome)
        return found

    async def ping(self, integration: Integration, now: datetime | None = None) -> int | None:
        """Record a ping; close the missed alert if there was one (its id)."""
        now = self._ctx.clock() if now is None else now
        hb = await self._ctx.db.run(self._store.heartbeat, integration.id)
        await self._ctx.db.run(self._store.set_ping, integration.id, now)
        if hb.missed_at is None:
            return None
        body = {"heartbeat": hb.name, "status": "ok", "pinged_at": iso(now)}
        outcome = await self._send(integration.id, body, now)
        log.info("heartbeat %s is back: %s", hb.name, outcome.status)
        return outcome.alert_id if outcome.action == "close" else None

    async def _send(
        self, integration_id: int, body: dict[str, Any], now: datetime
    ) -> InboundOutcome:
        integration = await self._ctx.db.run(self._ctx.store.get_integration, integration_id)
        return await record_json(self._ctx, integration, body, now)

    async def run(self) -> None:
        """Check forever (the app's background task)."""
        while True:
            await self.check()
            await asyncio.sleep(CHECK_EVERY_S)
