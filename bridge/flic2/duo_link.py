"""The Duo part of a verified Flic 2 session: its event stream, acknowledgements and twists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.flic2 import duo
from bridge.flic2.duo_events import DuoStream, decode_duo_events
from bridge.flic2.events import is_newer
from bridge.flic2.session_events import Press

# pyflic-ble names the Duo's event timestamps milliseconds (the Flic 2 counts 1/32768 s).
DUO_TICKS_PER_S = 1000


@dataclass(slots=True)
class DuoLink:
    """Per connection: the bit stream's state, what was delivered, the gesture state."""

    delivered: list[int | None]
    stream: DuoStream = field(default_factory=DuoStream)
    clicks: duo.DuoClicks = field(default_factory=duo.DuoClicks)
    init_timestamp: int = 0
    init_at: datetime | None = None

    def initialised(self, rsp: duo.InitDuoResponse, now: datetime, rebooted: bool) -> bool:
        """Start the stream where the init answer says; True when nothing is queued."""
        self.stream = DuoStream(
            event_counts=list(rsp.counts),
            timestamp=rsp.timestamp,
            queue_done=not rsp.has_queued_events,
        )
        self.init_timestamp, self.init_at = rsp.timestamp, now
        self.delivered = [None, None] if rebooted else self.delivered
        if not rsp.has_queued_events:
            self.delivered = list(rsp.counts)
        return not rsp.has_queued_events

    def events(self, payload: bytes, now: datetime) -> tuple[list[Press], bytes | None, bool]:
        """Presses, the acknowledgement to send (if any) and whether the queue is now drained."""
        queue_was_done = self.stream.queue_done
        items = decode_duo_events(payload, self.stream)
        presses: list[Press] = []
        init_at = self.init_at or now
        for item in items:
            button = item.button_number
            seen = self.delivered[button]
            if seen is not None and not is_newer(item.event_count, seen):
                continue  # a replay of an event delivered before
            age_s = 0.0
            if item.queued:
                age_s = max(0, self.init_timestamp - item.timestamp) / DUO_TICKS_PER_S
            at = init_at - timedelta(seconds=age_s) if item.queued else now
            presses.extend(
                Press(kind, item.event_count, item.queued, age_s, at, button)
                for kind in self.clicks.press_types(item)
            )
            self.delivered[button] = item.event_count
        ack = None
        if any(i.ack_worthy for i in items):
            ack = duo.ack_button_events_duo_ind(self.counts)
        return presses, ack, self.stream.queue_done and not queue_was_done

    @property
    def counts(self) -> tuple[int, int]:
        big, small = self.delivered
        return (big or 0, small or 0)

    def twist(self, body: bytes, now: datetime) -> list[Press]:
        button, kinds = self.clicks.twist(duo.parse_push_twist(body))
        return [Press(kind, -1, False, 0.0, now, button) for kind in kinds]
