"""Accept: a raw click is named, stored in the outbox and announced to the targets."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from bridge.clicks import forward_body, state_for
from bridge.core.outbox import Outbox
from bridge.core.registry import ButtonRegistry
from bridge.core.targets import Targets
from bridge.metrics import Metrics
from bridge.models import ButtonSeen, ClickEvent, RawClick, SourceEvent
from bridge.sinks.base import takes_every_click
from bridge.sources.base import Accepted

log = logging.getLogger(__name__)

ClickListener = Callable[[ClickEvent, str | None], None]
SeenListener = Callable[[ButtonSeen], None]


class ClickPipeline:
    """The one way in for every source: accept a click, observe a button's news."""

    def __init__(
        self,
        bridge_name: str,
        registry: ButtonRegistry,
        outbox: Outbox,
        targets: Targets,
        *,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.bridge_name = bridge_name
        self.registry = registry
        self.outbox = outbox
        self.targets = targets
        self.metrics = metrics
        self.clock = clock
        self._click_listeners: list[ClickListener] = []
        self._seen_listeners: list[SeenListener] = []

    def subscribe_clicks(self, listener: ClickListener) -> Callable[[], None]:
        """Hear every stored click (with its On/Off state); returns the unsubscribe."""
        self._click_listeners.append(listener)
        return lambda: self._click_listeners.remove(listener)

    def subscribe_seen(self, listener: SeenListener) -> Callable[[], None]:
        """Hear every connection/battery news; returns the unsubscribe."""
        self._seen_listeners.append(listener)
        return lambda: self._seen_listeners.remove(listener)

    async def accept(self, raw: RawClick) -> Accepted:
        """Name, id and store a click; returns once it is committed to the outbox."""
        now = self.clock()
        spec = self.registry.resolve(raw.address, raw.name_hint)
        event = ClickEvent(
            event_id=raw.event_id or uuid.uuid4().hex,
            button_address=spec.address,
            button_name=spec.name,
            click_type=raw.click_type,
            source=raw.source,
            pressed_at=raw.pressed_at,
            received_at=now,
            queued=raw.queued,
            queued_s=raw.queued_s,
            drill=raw.drill,
            button_number=raw.button_number,
            position=raw.position,
        )
        state = state_for(spec, raw.click_type)
        # An unmapped click type sends no webhook, but targets that take every click get it.
        sinks = self.targets.sinks
        targets = [s.name for s in sinks if state is not None or takes_every_click(s)]
        body = forward_body(event, spec, state, self.bridge_name, self.clock()) if targets else None
        if not self.outbox.enqueue(event, body, targets, now):
            log.info(
                "click %s from %s already stored: not enqueued again", event.event_id, raw.source
            )
            return Accepted(event.event_id, duplicate=True)
        self.registry.clicked(spec.address, raw.click_type, raw.source, raw.pressed_at)
        self.metrics.click(raw.source, raw.click_type.value)
        log.info(
            "click %s %s from %s%s -> %s (event %s)",
            spec.name,
            raw.click_type.value,
            raw.source,
            f" queued {raw.queued_s:.0f} s" if raw.queued else "",
            state or f"not mapped: no webhook{', to ' + ', '.join(targets) if targets else ''}",
            event.event_id,
        )
        self.targets.wake()
        for listener in list(self._click_listeners):
            try:
                listener(event, state)
            except Exception:
                log.exception("click listener failed for %s", event.event_id)
        return Accepted(event.event_id, duplicate=False)

    def observe(self, news: ButtonSeen) -> None:
        """Connection/battery news: kept for the status page and passed to listeners."""
        self.registry.seen(news)
        for listener in list(self._seen_listeners):
            try:
                listener(news)
            except Exception:
                log.exception("button listener failed for %s", news.address)

    async def handle(self, event: SourceEvent) -> None:
        """What supervisors call for each event a pull source yields."""
        if isinstance(event, RawClick):
            await self.accept(event)
        elif isinstance(event, ButtonSeen):
            self.observe(event)
