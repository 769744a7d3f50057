"""The bridge's lifecycle: run the parts wiring built (tasks, signals, uvicorn, watchdog)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import uvicorn

from bridge.app import wiring
from bridge.app.reload import reload_config
from bridge.app.reporter import Reporter
from bridge.config import Config
from bridge.config.forward import ReportSettings
from bridge.core.dispatch import ATTEMPT_TIMEOUT_S, Dispatcher
from bridge.errors import BridgeError
from bridge.sinks.base import Sink
from bridge.sources.base import ClickSource
from bridge.sources.hub.receiver import HubReceiver
from bridge.web.app import create_app
from bridge.web.status import status_of
from edgecommon.httplimits import uvicorn_limits
from edgecommon.sdnotify import Heartbeat, Notifier, heartbeats_fresh, run_watchdog

log = logging.getLogger(__name__)

RESTART_S = 1.0
HOUSEKEEPING_S = 3600.0
KEEP_DELIVERED_S = 30 * 86400.0


@runtime_checkable
class MqttLinked(Protocol):
    """A sink that owns an MQTT link (its supervisor's heartbeat feeds the watchdog)."""

    @property
    def link(self) -> Any: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Runtime:
    """One running bridge: the parts `wiring.build` made from its config, and their tasks."""

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
        parts = wiring.build(
            config, clock=clock, rand=rand or random.Random().random, sinks=sinks, sources=sources
        )
        self.parts = parts
        self.token = parts.token
        self.outbox = parts.outbox
        self.targets = parts.targets
        self.registry = parts.registry
        self.supervisors = parts.supervisors
        self.health = parts.health
        self.web = parts.web
        self.accept = parts.pipeline.accept
        self.observe = parts.pipeline.observe
        self.targets.on_added = self._added
        self.targets.on_removed = self._removed
        self._tasks: list[asyncio.Task[None]] = []
        self._delivering: dict[str, asyncio.Task[None]] = {}  # target name -> its delivery loop
        self._running = False

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

    @property
    def dispatchers(self) -> list[Dispatcher]:
        """One delivery loop per target (they change on a reload)."""
        return self.targets.dispatchers

    @property
    def sinks(self) -> list[Sink]:
        return self.targets.sinks

    @property
    def hub(self) -> HubReceiver | None:
        """The hub receiver, or None without `[hub]`."""
        return self.parts.hub.receiver

    @hub.setter
    def hub(self, receiver: HubReceiver | None) -> None:
        self.parts.hub.receiver = receiver

    def _reporter(self, settings: ReportSettings) -> Reporter:
        return Reporter(settings, lambda: status_of(self.web))

    def _added(self, dispatcher: Dispatcher) -> None:
        if self._running:
            self._deliver_to(dispatcher)

    def _removed(self, dispatcher: Dispatcher) -> None:
        name = dispatcher.sink.name
        task = self._delivering.pop(name, None)
        if task is not None:
            task.cancel()
        if self._running:
            closing = asyncio.create_task(dispatcher.sink.close(), name=f"close:{name}")
            closing.add_done_callback(self._task_done)
            self._tasks.append(closing)

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

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set (or SIGTERM/SIGINT), then shut down cleanly."""
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
                create_app(self.web),
                log_level="warning",
                lifespan="off",
                access_log=False,
                log_config=None,  # uvicorn's lines go through the CLI's (JSON, redacting) handler
                **uvicorn_limits(self.config.limits.http),
            )
        )
        for sink in self.targets.sinks:
            await sink.start()
        self._running = True
        for dispatcher in self.targets.dispatchers:
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
            len(self.targets.sinks),
            ", ".join(s.name for s in self.supervisors) or "push only",
        )
        for name, tstats in self.targets.unconfigured(self.clock()).items():
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
            for sink in self.targets.sinks:
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
        beats = [d.heartbeat for d in self.targets.dispatchers]
        beats.extend(s.link.heartbeat for s in self.targets.sinks if isinstance(s, MqttLinked))
        if self.config.health.enabled:
            beats.append(self.health.heartbeat)
        return beats

    def reload(self) -> bool:
        """SIGHUP: re-read the config; apply the live parts, or keep all of it when invalid."""
        if self.reread is None:
            return False
        current = reload_config(
            self.config,
            self.reread,
            targets=self.targets,
            registry=self.registry,
            health=self.health,
            notifier=self.notifier,
        )
        if current is None:
            return False
        self.config = current
        return True

    def status(self) -> dict[str, Any]:
        """The body of `GET /api/status`."""
        return status_of(self.web)
