"""A bridge silent too long opens one alert (`bridge:<name>`); its next report closes it.

`inbound.silence.is_silent` is pure (takes `now`); `BridgeMonitor` drives it with the app's
injected clock and sends its open/close messages through the normal inbound pipeline of the
`flic-bridges` integration, so they are logged, escalated, published on MQTT and shown like any
other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from server.alerts.model import iso
from server.alerts.store import InboundOutcome, Integration
from server.bridges.store import Bridge, BridgeReport, BridgesStore
from server.context import AppContext
from server.inbound.recording import record_json
from server.inbound.silence import is_silent, silent_from

log = logging.getLogger(__name__)

INTEGRATION_NAME = "flic-bridges"
MAX_CHECK_EVERY_S = 5.0

MAPPING: dict[str, Any] = {
    "source_name": {"field": "source"},
    "status": {"field": "state"},
    "open_when": {"equals": "silent"},
    "close_when": {"equals": "back"},
    "title": "Bridge {{ bridge }} is silent",
    "description": "Bridge {{ bridge }} has not reported since {{ last_report_at }}"
    " ({{ silent_after_s }} s without one): its buttons may not reach anyone.",
    "filters": [],
}


def source_of(name: str) -> str:
    """The alert source name of a bridge."""
    return f"bridge:{name}"


def silent_since(bridge: Bridge, silent_after_s: float) -> datetime:
    """When the bridge counts as silent if no report arrives first."""
    return silent_from(bridge.last_report_at, silent_after_s)


def check_every_s(silent_after_s: float) -> float:
    """How often to look: often enough to open the alert within a quarter of the threshold."""
    return min(MAX_CHECK_EVERY_S, silent_after_s / 4)


class BridgeMonitor:
    """Takes reports and checks every bridge against the clock."""

    def __init__(self, ctx: AppContext, store: BridgesStore, silent_after_s: float) -> None:
        self._ctx = ctx
        self.store = store
        self.silent_after_s = silent_after_s

    async def report(self, report: BridgeReport, now: datetime | None = None) -> Bridge:
        """Store a report; close the silent alert when the bridge was silent."""
        now = self._ctx.clock() if now is None else now
        before = await self._ctx.db.run(self.store.report, report, now)
        if before is not None and before.silent_at is not None:
            body = {
                "bridge": report.name,
                "source": source_of(report.name),
                "state": "back",
                "reported_at": iso(now),
            }
            outcome = await self._send(body, now)
            log.info("bridge %s reports again: %s", report.name, outcome.status)
        elif before is None:
            log.info("bridge %s reports for the first time", report.name)
        found = await self._ctx.db.run(self.store.bridge, report.name)
        assert found is not None
        return found

    async def check(self, now: datetime | None = None) -> list[InboundOutcome]:
        """Open an alert for each bridge that has just gone silent."""
        now = self._ctx.clock() if now is None else now
        found: list[InboundOutcome] = []
        for bridge in await self._ctx.db.run(self.store.bridges):
            if not is_silent(bridge.last_report_at, self.silent_after_s, bridge.silent_at, now):
                continue
            if not await self._ctx.db.run(self.store.set_silent, bridge.name, now):
                continue  # it reported in the meantime
            body = {
                "bridge": bridge.name,
                "source": source_of(bridge.name),
                "state": "silent",
                "last_report_at": iso(bridge.last_report_at),
                "silent_after_s": self.silent_after_s,
            }
            outcome = await self._send(body, now)
            log.warning(
                "bridge %s silent since %s: %s",
                bridge.name,
                iso(bridge.last_report_at),
                outcome.status,
            )
            found.append(outcome)
        return found

    async def _send(self, body: dict[str, Any], now: datetime) -> InboundOutcome:
        integration = await self._ctx.db.run(self._integration, now)
        return await record_json(self._ctx, integration, body, now)

    def _integration(self, now: datetime) -> Integration:
        """The `flic-bridges` integration, created the first time it is needed."""
        store = self._ctx.store
        for integration in store.list_integrations():
            if integration.name == INTEGRATION_NAME:
                return integration
        log.info("creating the %s integration for bridge alerts", INTEGRATION_NAME)
        return store.create_integration(
            name=INTEGRATION_NAME, kind="generic", mapping=MAPPING, now=now
        )

    async def run(self) -> None:
        """Check forever (the app's background task)."""
        while True:
            await self.check()
            await asyncio.sleep(check_every_s(self.silent_after_s))
