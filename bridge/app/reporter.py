"""`[bridge] report_url`: post this bridge's health to the alert server every `report_every_s`.

The server lists the bridge (`GET /api/v1/bridges`) and opens a `bridge:<name>` alert when the
reports stop. A report that fails is not queued: the next one says the same, fresher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bridge.config.forward import ReportSettings
from bridge.sources.base import UP_STATES

log = logging.getLogger(__name__)

StatusSnapshot = Callable[[], Mapping[str, Any]]


def report_body(status: Mapping[str, Any]) -> dict[str, Any]:
    """The report from a `GET /api/status` body: `status` is `ok` or `degraded` (and why)."""
    outbox = status["outbox"]
    problems = [
        f"source {s['name']} is {s['state']}"
        for s in status["sources"]
        if str(s["state"]) not in UP_STATES
    ]
    problems += [f"target {t['name']} failing" for t in status["targets"] if t["failing_since"]]
    if outbox["dead"]:
        problems.append(f"{outbox['dead']} dead letter(s)")
    problems += [f"health: {h['alert']}" for h in status.get("health", [])]
    return {
        "name": status["bridge"],
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "buttons": [
            {k: b.get(k) for k in ("name", "address", "connected", "battery", "last_click")}
            for b in status["buttons"]
        ],
        "outbox_pending": outbox["pending"],
        "outbox_dead": outbox["dead"],
        "oldest_pending_s": outbox["oldest_age_s"],
        "sources": [{"name": s["name"], "state": s["state"]} for s in status["sources"]],
        "targets": [
            {k: t.get(k) for k in ("name", "url", "pending", "dead", "failing_since")}
            for t in status["targets"]
        ],
    }


class Reporter:
    """The report loop (a supervised task of the runtime)."""

    def __init__(self, settings: ReportSettings, snapshot: StatusSnapshot) -> None:
        self._settings = settings
        self._snapshot = snapshot
        self.last_error: str | None = None
        self.reported = 0

    async def report_once(self, client: httpx.AsyncClient) -> None:
        body = report_body(self._snapshot())
        headers = {"Authorization": f"Bearer {self._settings.token}", "User-Agent": "flic-bridge"}
        try:
            response = await client.post(self._settings.url, json=body, headers=headers)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc) or 'no answer'}"
            if self.last_error is None:
                log.warning("report to %s failed (%s)", self._settings.url, error)
            else:
                log.debug("report to %s still failing (%s)", self._settings.url, error)
            self.last_error = error
            return
        if self.last_error is not None:
            log.info("reporting to %s again", self._settings.url)
        self.last_error = None
        self.reported += 1

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=min(10.0, self._settings.every_s)) as client:
            while True:
                await self.report_once(client)
                await asyncio.sleep(self._settings.every_s)
