"""Word back: when someone acknowledges or closes, everyone already paged is told who did.

Through the same channels and contacts their page reached ("Ann (console) is on it:
front-desk"); the timeline gets one `responder_notified` entry naming each outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from server.alerts.events import AlertChange
from server.alerts.model import TimelineEntry
from server.context import AppContext
from server.escalation.paging import Clock
from server.escalation.state_store import AlertsTable, EscalationStore
from server.notify.base import Channel, Page
from server.notify.contacts import Contact, shown
from server.reports.drills import drill_text

log = logging.getLogger(__name__)
_PREFIX = {"acknowledge": "acknowledged by ", "close": "closed by "}


@dataclass(frozen=True, slots=True)
class WordBackPage(Page):
    """A short note about an alert already paged: one line, no links."""

    def subject(self) -> str:
        line = " ".join(f"[flic-edge] Alert #{self.alert_id}: {self.title}".split())
        return drill_text(line, self.drill)

    def text(self) -> str:
        return drill_text(self.title, self.drill)


def who_did(kind: str, timeline: list[TimelineEntry]) -> str:
    """Who made the latest `kind` entry, as people would say it (pure)."""
    for entry in reversed(timeline):
        if entry.kind != kind:
            continue
        if entry.message_id is not None:
            return "the source"  # the button's own Off (or the sender's resolve)
        who = entry.detail.removeprefix(_PREFIX.get(kind, ""))
        if who in ("link", ""):
            return "someone (from a page link)"
        return who
    return "someone"


def line_for(change: AlertChange, who: str) -> str:
    if change.kind == "acknowledge":
        return f"{who} is on it: {change.source_name}"
    return f"{who} closed it: {change.source_name}"


class WordBack:
    """The `AlertChange` subscriber that tells those already paged."""

    def __init__(
        self,
        ctx: AppContext,
        store: EscalationStore,
        alerts: AlertsTable,
        channels: Mapping[str, Channel],
        clock: Clock,
        timeout_s: float,
    ) -> None:
        self._ctx = ctx
        self._store = store
        self._alerts = alerts
        self._channels = channels
        self._clock = clock
        self._timeout_s = timeout_s

    def _recipients(self, alert_id: int) -> tuple[list[Contact], list[TimelineEntry]]:
        seen: dict[tuple[str, str], Contact] = {}
        for n in self._store.notifications(alert_id):
            if n.status == "sent":
                seen.setdefault((n.contact.channel, n.contact.address), n.contact)
        return list(seen.values()), self._ctx.store.timeline(alert_id)

    async def on_change(self, change: AlertChange) -> None:
        if change.kind not in ("acknowledge", "close"):
            return
        contacts, timeline = await self._ctx.db.run(self._recipients, change.alert_id)
        if not contacts:
            return
        line = line_for(change, who_did(change.kind, timeline))
        view = await self._ctx.db.run(self._alerts.alert, change.alert_id)
        drill = view is not None and view.drill
        page = WordBackPage(change.alert_id, line, "", "", "", change.priority, drill)
        outcomes = []
        for contact in contacts:
            channel = self._channels.get(contact.channel)
            try:
                if channel is None:
                    raise RuntimeError(f"channel {contact.channel} not configured")
                async with asyncio.timeout(self._timeout_s):
                    await channel.send(contact.address, page)
                outcomes.append(f"{shown(contact)} sent")
            except Exception as exc:  # one failed contact never keeps the others from hearing
                outcomes.append(f"{shown(contact)} failed ({exc or type(exc).__name__})")
                log.warning(
                    "alert %d: word back via %s failed: %s", change.alert_id, contact.kind, exc
                )
        detail = f"{line}; told {len(contacts)} already paged: " + ", ".join(outcomes)
        now: datetime = self._clock()
        await self._ctx.db.run(
            self._alerts.add_timeline, change.alert_id, now, "responder_notified", detail
        )
