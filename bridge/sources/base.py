"""The seams every click source uses: a pull iterator, or a push callback for HTTP senders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bridge.models import ButtonSeen, RawClick, SourceEvent


class SourceStatus(StrEnum):
    """Every state a source can be in, as `/api/status` and the status page show it.

    (`bridge.models.SourceState` is the event a source sends to say its state changed.)
    """

    STARTING = "starting"
    UP = "up"
    DOWN = "down"
    STOPPED = "stopped"
    NO_BLUETOOTH = "no-bluetooth"
    CONNECTED = "connected"
    LISTENING = "listening"  # a hub receiver, ready for hubs
    WAITING = "waiting"  # a hub receiver no hub has talked to yet: nothing to watch
    ONLINE = "online"
    OFFLINE = "offline"
    OK = "ok"
    READY = "ready"
    UNKNOWN = "unknown"


# The states that are not "down": up, or with nothing to watch yet.
UP_STATES = frozenset(
    {
        SourceStatus.UP,
        SourceStatus.CONNECTED,
        SourceStatus.LISTENING,
        SourceStatus.OK,
        SourceStatus.READY,
        SourceStatus.ONLINE,
        SourceStatus.WAITING,
    }
)


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
