"""The delivery targets of a running bridge: its sinks, one dispatcher each, and retargeting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from bridge.config.forward import ForwardTarget
from bridge.core.dispatch import Dispatcher
from bridge.core.outbox import Outbox, OutboxStats
from bridge.metrics import Metrics
from bridge.sinks.base import Sink
from bridge.sinks.http import HttpSink

DispatcherHook = Callable[[Dispatcher], None]


def http_sink(target: ForwardTarget) -> HttpSink:
    return HttpSink(target.name, target.urls, timeout_s=target.timeout_s)


class Targets:
    """Sinks and their dispatchers; the lifecycle owner hears which loops start and stop."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Iterable[Sink],
        *,
        clock: Callable[[], datetime],
        rand: Callable[[], float],
        metrics: Metrics,
    ) -> None:
        self.outbox = outbox
        self._clock = clock
        self._rand = rand
        self._metrics = metrics
        self.sinks: list[Sink] = []
        self.dispatchers: list[Dispatcher] = []
        # Set by whoever runs the delivery loops (None while nothing runs).
        self.on_added: DispatcherHook | None = None
        self.on_removed: DispatcherHook | None = None
        for sink in sinks:
            self._add(sink)

    def _add(self, sink: Sink) -> Dispatcher:
        dispatcher = Dispatcher(
            self.outbox, sink, clock=self._clock, rand=self._rand, metrics=self._metrics
        )
        self.sinks.append(sink)
        self.dispatchers.append(dispatcher)
        return dispatcher

    def names(self) -> list[str]:
        return [sink.name for sink in self.sinks]

    def wake(self) -> None:
        """New rows in the outbox: every delivery loop looks at once."""
        for dispatcher in self.dispatchers:
            dispatcher.wake()

    def retarget(self, old: Sequence[ForwardTarget], forward: Sequence[ForwardTarget]) -> list[str]:
        """SIGHUP with a new `[[forward]]` list: stop removed or changed targets, start new ones.

        A changed target (same `name`, new url or timeout) restarts with its pending presses;
        a removed one keeps them (see `unconfigured`). A delivery cut off mid-way is sent
        again later, with the same `Idempotency-Key`. Returns what changed, for the log.
        """
        before = {t.name: t for t in old}
        after = {t.name: t for t in forward}
        changes: list[str] = []
        for name, target in before.items():
            if after.get(name) == target:
                continue
            changes.append(f"{name} {'changed' if name in after else 'removed'}")
            for dispatcher in [d for d in self.dispatchers if d.sink.name == name]:
                self.dispatchers.remove(dispatcher)
                self.sinks.remove(dispatcher.sink)
                if self.on_removed is not None:
                    self.on_removed(dispatcher)
        for name, target in after.items():
            if before.get(name) == target:
                continue
            if name not in before:
                changes.append(f"{name} added")
            dispatcher = self._add(http_sink(target))
            if self.on_added is not None:
                self.on_added(dispatcher)
        return changes

    def unconfigured(self, now: datetime) -> dict[str, OutboxStats]:
        """Targets no longer configured that still hold presses (pending or dead), by name.

        Their rows are kept, never delivered elsewhere: put the target back under
        `[[forward]]` (same `name`) and they go out in order.
        """
        configured = set(self.names())
        found: dict[str, OutboxStats] = {}
        for name in self.outbox.targets():
            if name not in configured:
                tstats = self.outbox.stats(now, name)
                if tstats.pending or tstats.dead:
                    found[name] = tstats
        return found
