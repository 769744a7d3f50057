"""Button health: the bridge's own alerts about low batteries, silent buttons and dead sources.

`evaluate` is pure (takes `now`): button and source states give the set of conditions that
hold. `HealthMonitor` compares it with the set already raised and sends each change as a
normal webhook body through the outbox to every target: `flic_nameId` names the condition
(`front-desk-battery`, `front-desk-unseen`, `bridge-1-flicd-down`) and `flic_state` is `On`
when it starts and `Off` when it clears, so the default flic mapping opens and closes it.

`state_dir/health.json` keeps the raised alerts and each button's last battery and last
sighting, so a restart neither repeats an alert (no Off then On, no new page) nor forgets one:
a fresh process knows no battery until the next report and has seen nothing yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.config.health import HealthSettings, HealthThresholds
from bridge.core import health_store
from bridge.core.outbox import Outbox
from bridge.core.registry import ButtonState
from bridge.models import ClickEvent, ClickType
from bridge.sources.base import UP_STATES
from edgecommon.sdnotify import Heartbeat
from edgecommon.timefmt import iso_utc

log = logging.getLogger(__name__)

IDLE_BEAT_S = 1.0  # the loop comes round this often between checks, so idle is not wedged


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source as the health check sees it: its state and since when."""

    name: str
    state: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Condition:
    """One unhealthy condition; `key` becomes the alert's `flic_nameId`."""

    key: str
    check: str  # "battery" | "unseen" | "source_down"
    subject: str  # the button or source name
    info: str
    value: Any = None
    threshold: Any = None
    address: str = ""


def thresholds_of(state: ButtonState, settings: HealthSettings) -> HealthThresholds:
    return settings.defaults if state.spec.health is None else state.spec.health


def evaluate(
    now: datetime,
    buttons: Iterable[ButtonState],
    sources: Iterable[SourceView],
    settings: HealthSettings,
    bridge_name: str,
    started_at: datetime,
    raised: Collection[str] = (),
) -> dict[str, Condition]:
    """Every condition that holds at `now` (configured buttons only).

    `raised` (the alerts already up) keeps a condition whose start the process cannot know
    after a restart: a never-seen button stays unseen, a source that is still not up stays
    down, instead of clearing and coming back once the limit has passed again.
    """
    found: dict[str, Condition] = {}
    if not settings.enabled:
        return found
    for state in buttons:
        if not state.spec.configured:
            continue
        limits = thresholds_of(state, settings)
        name, address = state.spec.name, state.spec.address
        if (
            limits.battery_below is not None
            and state.battery is not None
            and state.battery < limits.battery_below
        ):
            key = f"{name}-battery"
            info = f"{name}: battery {state.battery}% (below {limits.battery_below}%)"
            found[key] = Condition(
                key, "battery", name, info, state.battery, limits.battery_below, address
            )
        if limits.unseen_after_s is not None and state.connected is not True:
            last = state.last_seen_at or started_at
            silent_s = (now - last).total_seconds()
            still = state.last_seen_at is None and f"{name}-unseen" in raised
            if silent_s >= limits.unseen_after_s or still:
                key = f"{name}-unseen"
                limit = _span(limits.unseen_after_s)
                if state.last_seen_at is None:
                    info = f"{name}: not seen since the bridge started (limit {limit})"
                else:
                    info = f"{name}: not seen for {_span(silent_s)} (limit {limit})"
                found[key] = Condition(
                    key, "unseen", name, info, round(silent_s), limits.unseen_after_s, address
                )
    if settings.source_down_after_s is not None:
        for source in sources:
            if source.state in UP_STATES:
                continue
            down_s = (now - (source.since or started_at)).total_seconds()
            key = f"{bridge_name}-{source.name}-down"
            if down_s >= settings.source_down_after_s or key in raised:
                info = f"{bridge_name}: source {source.name} is {source.state} for {_span(down_s)}"
                limit_s = settings.source_down_after_s
                found[key] = Condition(
                    key, "source_down", source.name, info, round(down_s), limit_s
                )
    return found


def _span(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def health_body(
    condition: Condition, state: str, bridge_name: str, event: ClickEvent
) -> dict[str, Any]:
    """The webhook body of one health change: the contract's keys plus `health`."""
    return {
        "flic_nameId": condition.key,
        "flic_state": state,
        "info": condition.info if state == "On" else f"cleared: {condition.info}",
        "click_type": "health",
        "button_address": condition.address,
        "source": "health",
        "event_id": event.event_id,
        "pressed_at": iso_utc(event.pressed_at),
        "queued": False,
        "queued_seconds": 0,
        "bridge": bridge_name,
        "received_at": iso_utc(event.received_at),
        "stored_at": iso_utc(event.received_at),
        "health": {
            "check": condition.check,
            "subject": condition.subject,
            "value": condition.value,
            "threshold": condition.threshold,
        },
    }


class HealthMonitor:
    """Raises and clears health alerts through the outbox as conditions come and go."""

    def __init__(
        self,
        settings: HealthSettings,
        *,
        bridge_name: str,
        state_dir: Path,
        outbox: Outbox,
        targets: Callable[[], Sequence[str]],
        buttons: Callable[[], Iterable[ButtonState]],
        sources: Callable[[], Iterable[SourceView]],
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._bridge = bridge_name
        self._path = state_dir / health_store.STATE_FILE
        self._outbox = outbox
        self._targets = targets
        self._buttons = buttons
        self._sources = sources
        self._clock = clock
        self._wake = wake
        self.started_at = clock()
        self._known: dict[str, health_store.Remembered] = {}
        self.active: dict[str, Condition] = self._load()
        self.heartbeat = Heartbeat("health")

    def _load(self) -> dict[str, Condition]:
        saved = health_store.load(self._path)
        self._known = saved.buttons
        found: dict[str, Condition] = {}
        for item in saved.raised:
            try:
                found[item["key"]] = Condition(**item)
            except (TypeError, KeyError):
                continue
        return found

    def _save(self) -> None:
        items = [
            {
                "key": c.key,
                "check": c.check,
                "subject": c.subject,
                "info": c.info,
                "value": c.value,
                "threshold": c.threshold,
                "address": c.address,
            }
            for c in self.active.values()
        ]
        health_store.save(self._path, health_store.Saved(items, self._known))

    def remembered(self) -> dict[str, health_store.Remembered]:
        """Each button's last battery and sighting, as saved by this run or an earlier one."""
        return dict(self._known)

    def check(self) -> list[tuple[str, str]]:
        """Compare conditions with those raised; send On/Off for each change."""
        now = self._clock()
        buttons, known = health_store.merged(self._buttons(), self._known)
        remembered = known != self._known
        self._known = known
        holding = evaluate(
            now,
            buttons,
            self._sources(),
            self.settings,
            self._bridge,
            self.started_at,
            raised=self.active,
        )
        changes: list[tuple[str, str]] = []
        for key, condition in holding.items():
            if key not in self.active:
                self._send(condition, "On", now)
                changes.append((key, "On"))
        for key, condition in list(self.active.items()):
            if key not in holding:
                self._send(condition, "Off", now)
                changes.append((key, "Off"))
        if changes:
            self.active = dict(holding)
        if changes or remembered:
            self._save()
        if changes:
            self._wake()
        return changes

    def _send(self, condition: Condition, state: str, now: datetime) -> None:
        event = ClickEvent(
            event_id=uuid.uuid4().hex,
            button_address=f"health:{condition.key}",  # one line per condition: On before Off
            button_name=condition.key,
            click_type=ClickType.CLICK,
            source="health",
            pressed_at=now,
            received_at=now,
            queued=False,
            queued_s=0.0,
        )
        body = health_body(condition, state, self._bridge, event)
        self._outbox.enqueue(event, body, list(self._targets()), now)
        log_at = log.warning if state == "On" else log.info
        log_at("health: %s %s (%s)", condition.key, state, condition.info)

    async def run(self) -> None:
        """Check every `check_every_s` (read each time: a reload may change it) until cancelled."""
        next_s = 0.0
        while True:
            self.heartbeat.beat()
            if time.monotonic() >= next_s:
                self.check()
                next_s = time.monotonic() + self.settings.check_every_s
            await asyncio.sleep(max(0.0, min(IDLE_BEAT_S, next_s - time.monotonic())))
