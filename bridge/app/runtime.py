"""The composition root: config -> outbox, sinks, sources, supervisors, web; and `accept`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import uvicorn

from bridge.app.token import bridge_token
from bridge.config import Config
from bridge.core.dispatch import ATTEMPT_TIMEOUT_S, Dispatcher
from bridge.core.health import health_monitor
from bridge.core.outbox import Outbox
from bridge.core.pipeline import forward_body, state_for
from bridge.core.registry import ButtonRegistry
from bridge.core.supervisor import Supervisor
from bridge.errors import BridgeError
from bridge.forward_config import ForwardTarget, ReportSettings
from bridge.metrics import Metrics
from bridge.models import ButtonSeen, ClickEvent, RawClick, SourceEvent
from bridge.reporter import Reporter
from bridge.sinks.base import Sink, takes_every_click
from bridge.sinks.http import HttpSink
from bridge.sources.base import Accepted, ClickSource
from bridge.web.status import status_of, unconfigured_targets
from edgecommon.httplimits import uvicorn_limits
from edgecommon.sdnotify import Heartbeat, Notifier, heartbeats_fresh, run_watchdog

log = logging.getLogger(__name__)

RESTART_S = 1.0
HOUSEKEEPING_S = 3600.0
KEEP_DELIVERED_S = 30 * 86400.0

ClickListener = Callable[[ClickEvent, str | None], None]


@runtime_checkable
class MqttLinked(Protocol):
    """A sink that owns an MQTT link (its supervisor's heartbeat feeds the watchdog)."""

    @property
    def link(self) -> Any: ...


SeenListener = Callable[[ButtonSeen], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def http_sink(target: ForwardTarget) -> HttpSink:
    return HttpSink(target.name, target.urls, timeout_s=target.timeout_s)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Runtime:
    """Everything one running bridge is made of, built from its config."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utc_now,
        rand: Callable[[], float] | None = None,
        sinks: Sequence[Sink] | None = None,
        sources: Sequence[ClickSource] | None = None,
        notifier: Notifier | None = None,
        wedged_after_s: float | None = None,
        reread: Callable[[], Config] | None = None,
    ) -> None:
        self.config = config
        self.reread = reread  # SIGHUP re-reads the config through this (None: no reload)
        self.notifier = notifier or Notifier(None)
        # A delivery attempt is bounded by ATTEMPT_TIMEOUT_S: a loop silent for longer is wedged.
        self.wedged_after_s = wedged_after_s or ATTEMPT_TIMEOUT_S + 60.0
        self.clock = clock
        self.rand = rand or random.Random().random
        self.token = bridge_token(config)
        self.metrics = Metrics()
        limits = config.limits
        self.registry = ButtonRegistry(config.buttons, max_unknown=limits.max_unknown_buttons)
        self.outbox = Outbox.in_state_dir(
            config.bridge.state_dir, max_clicks=limits.max_outbox_clicks
        )
        self.sinks: list[Sink] = list(sinks) if sinks is not None else self._default_sinks()
        self.dispatchers = [
            Dispatcher(self.outbox, sink, clock=clock, rand=self.rand, metrics=self.metrics)
            for sink in self.sinks
        ]
        chosen = list(sources) if sources is not None else self._default_sources()
        self.supervisors = [
            Supervisor(source, self.handle, clock=clock, rand=self.rand) for source in chosen
        ]
        self.click_listeners: list[ClickListener] = []
        self.seen_listeners: list[SeenListener] = []
        if self.config.mqtt.enabled:
            from bridge.app.wiring import attach

            attach(self)
        self.hub: Any = self._hub_receiver()
        self.started_at = clock()
        self.health = health_monitor(self)
        self._tasks: list[asyncio.Task[None]] = []
        self._delivering: dict[str, asyncio.Task[None]] = {}  # target name -> its delivery loop
        self._running = False

    def _default_sinks(self) -> list[Sink]:
        sinks: list[Sink] = [http_sink(t) for t in self.config.forward]
        if self.config.mqtt.enabled:
            from bridge.app.wiring import mqtt_sink

            sinks.append(mqtt_sink(self.config))
        return sinks

    def _default_sources(self) -> list[ClickSource]:
        found: list[ClickSource] = []
        if self.config.flicd.enabled:
            from bridge.sources.flicd.source import flicd_source_for

            found.append(flicd_source_for(self.config, clock=self.clock))
        if self.config.ble.enabled:
            from bridge.sources.ble.source import ble_sources_for

            found.extend(ble_sources_for(self.config, clock=self.clock))
        return found

    def _hub_receiver(self) -> Any:
        if not self.config.hub.enabled:
            return None
        try:
            from bridge.sources.hub.receiver import HubReceiver  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            log.debug("hub receiver not available in this build")
            return None
        return HubReceiver(self.accept, self.observe, self.clock)

    # --- the seams sources use ---------------------------------------------------------------

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
        name = self.config.bridge.name
        # An unmapped click type sends no webhook, but targets that take every click get it.
        targets = [s.name for s in self.sinks if state is not None or takes_every_click(s)]
        body = forward_body(event, spec, state, name, self.clock()) if targets else None
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
        for dispatcher in self.dispatchers:
            dispatcher.wake()
        for listener in self.click_listeners:
            try:
                listener(event, state)
            except Exception:
                log.exception("click listener failed for %s", event.event_id)
        return Accepted(event.event_id, duplicate=False)

    def observe(self, news: ButtonSeen) -> None:
        """Connection/battery news: kept for the status page and passed to listeners."""
        self.registry.seen(news)
        for listener in self.seen_listeners:
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

    # --- running -----------------------------------------------------------------------------

    def _spawn(
        self, name: str, make: Callable[[], Coroutine[Any, Any, None]]
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._keep_running(name, make), name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)
        return task

    def _deliver_to(self, dispatcher: Dispatcher) -> None:
        name = dispatcher.sink.name
        self._delivering[name] = self._spawn(f"deliver:{name}", dispatcher.run)

    def retarget(self, forward: Sequence[ForwardTarget]) -> list[str]:
        """SIGHUP with a new `[[forward]]` list: stop removed or changed targets, start new ones.

        A changed target (same `name`, new url or timeout) restarts with its pending presses;
        a removed one keeps them (see `unconfigured_targets`). A delivery cut off mid-way is
        sent again later, with the same `Idempotency-Key`. Returns what changed, for the log.
        """
        old = {t.name: t for t in self.config.forward}
        new = {t.name: t for t in forward}
        changes: list[str] = []
        for name, target in old.items():
            if new.get(name) == target:
                continue
            changes.append(f"{name} {'changed' if name in new else 'removed'}")
            for dispatcher in [d for d in self.dispatchers if d.sink.name == name]:
                self.dispatchers.remove(dispatcher)
                self.sinks.remove(dispatcher.sink)
                task = self._delivering.pop(name, None)
                if task is not None:
                    task.cancel()
                if self._running:
                    closing = asyncio.create_task(dispatcher.sink.close(), name=f"close:{name}")
                    closing.add_done_callback(self._task_done)
                    self._tasks.append(closing)
        for name, target in new.items():
            if old.get(name) == target:
                continue
            if name not in old:
                changes.append(f"{name} added")
            sink = http_sink(target)
            dispatcher = Dispatcher(
                self.outbox, sink, clock=self.clock, rand=self.rand, metrics=self.metrics
            )
            self.sinks.append(sink)
            self.dispatchers.append(dispatcher)
            if self._running:
                self._deliver_to(dispatcher)
        return changes

    @staticmethod
    async def _keep_running(name: str, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Restart a background loop that failed, so one fault never stops delivery for good."""
        while True:
            try:
                await make()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("task %s failed; restarting it in %.0f s", name, RESTART_S)
                await asyncio.sleep(RESTART_S)

    async def _housekeeping(self) -> None:
        """Forget delivered rows after a while; pending and dead rows are never touched."""
        while True:
            removed = self.outbox.purge(self.clock(), older_than_s=KEEP_DELIVERED_S)
            if removed:
                log.info("outbox: forgot %d delivered row(s) older than 30 days", removed)
            await asyncio.sleep(HOUSEKEEPING_S)

    @staticmethod
    def _task_done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed: %r", task.get_name(), task.exception())

    def _listen_socket(self) -> socket.socket:
        host, port = self.config.bridge.host, self.config.bridge.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise BridgeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def _reporter(self, settings: ReportSettings) -> Reporter:
        return Reporter(settings, lambda: status_of(self))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set (or SIGTERM/SIGINT), then shut down cleanly."""
        from bridge.web.app import create_app

        stop = stop or asyncio.Event()
        sock = self._listen_socket()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if self.reread is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGHUP, self.reload)
        server = _QuietServer(
            uvicorn.Config(
                create_app(self),
                log_level="warning",
                lifespan="off",
                access_log=False,
                log_config=None,  # uvicorn's lines go through the CLI's (JSON, redacting) handler
                **uvicorn_limits(self.config.limits.http),
            )
        )
        for sink in self.sinks:
            await sink.start()
        self._running = True
        for dispatcher in self.dispatchers:
            self._deliver_to(dispatcher)
        for supervisor in self.supervisors:
            self._spawn(f"source:{supervisor.name}", supervisor.run)
        self._spawn("housekeeping", self._housekeeping)
        if self.config.health.enabled:
            self._spawn("health", self.health.run)
        if self.config.bridge.report is not None:
            self._spawn("report", self._reporter(self.config.bridge.report).run)
        web = asyncio.create_task(server.serve(sockets=[sock]), name="web")
        self._spawn("sd-notify", lambda: self._notify_ready(server))
        log.info(
            "flic-bridge %s running: status %s, %d button(s), %d target(s), sources: %s",
            self.config.bridge.name,
            self.config.listen_url,
            len(self.config.buttons),
            len(self.sinks),
            ", ".join(s.name for s in self.supervisors) or "push only",
        )
        for name, tstats in unconfigured_targets(self, self.clock()).items():
            log.warning(
                "outbox: %d pending and %d dead press(es) wait for target %r, which is no longer"
                " under [[forward]]: add it back (same name) to deliver them",
                tstats.pending,
                tstats.dead,
                name,
            )
        stopper = asyncio.create_task(stop.wait(), name="stop")
        try:
            await asyncio.wait({web, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            log.info("flic-bridge stopping")
            self.notifier.stopping()
            server.should_exit = True
            stopper.cancel()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(web, 5.0)
            for sink in self.sinks:
                with contextlib.suppress(Exception):
                    await sink.close()
            self.outbox.close()
            sock.close()

    async def _notify_ready(self, server: uvicorn.Server) -> None:
        """READY=1 once the listener is serving (the outbox is already open); then the watchdog."""
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
        self.notifier.ready(f"serving {self.config.listen_url}")
        # The loops change on a reload ([[forward]]), so the list is taken anew each time.
        await run_watchdog(
            self.notifier, lambda: heartbeats_fresh(self.heartbeats(), self.wedged_after_s)()
        )

    def heartbeats(self) -> list[Heartbeat]:
        """Every loop the watchdog waits on: delivery, the MQTT link supervisor, health."""
        beats = [d.heartbeat for d in self.dispatchers]
        beats.extend(s.link.heartbeat for s in self.sinks if isinstance(s, MqttLinked))
        if self.config.health.enabled:
            beats.append(self.health.heartbeat)
        return beats

    def reload(self) -> bool:
        """SIGHUP: re-read the config; apply the live parts, or keep all of it when invalid."""
        from bridge.app.reload import reload_runtime

        return reload_runtime(self)

    def status(self) -> dict[str, Any]:
        """The body of `GET /api/status`."""
        return status_of(self)
