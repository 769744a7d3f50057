"""The seams every click source uses: a pull iterator, or a push callback for HTTP senders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.models import ButtonSeen, RawClick, SourceEvent


class ClickSource(Protocol):
    """A dumb source: connect, yield events until the connection ends, then raise.

    It knows nothing of retries; the supervisor calls `events()` again with backoff.
    Ending the iterator normally means the source was stopped on purpose.
    """

    name: str

    def events(self) -> AsyncIterator[SourceEvent]: ...


@dataclass(frozen=True, slots=True)
class Accepted:
    """The runtime's answer to a click: stored on disk under `event_id`."""

    event_id: str
    duplicate: bool  # that event id was already stored: nothing new was enqueued


# Push senders (hub posts, /api/press, MQTT press topic) hand clicks to the runtime with this;
# it returns only once the click is committed to the outbox.
Accept = Callable[[RawClick], Awaitable[Accepted]]
# Connection/battery news that needs no durability (status page, MQTT state).
Observe = Callable[[ButtonSeen], None]
