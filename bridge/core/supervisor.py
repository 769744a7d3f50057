"""Keeps a dumb click source running: reconnects with jittered backoff, reports its state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bridge.models import SourceEvent, SourceState
from bridge.sources.base import ClickSource
from edgecommon.backoff import backoff_s

log = logging.getLogger(__name__)

Handler = Callable[[SourceEvent], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class Supervisor:
    """Reruns `source.events()`: first failure WARNING, repeats DEBUG, recovery INFO."""

    def __init__(
        self,
        source: ClickSource,
        handle: Handler,
        *,
        clock: Callable[[], datetime],
        rand: Callable[[], float],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.source = source
        self._handle = handle
        self._clock = clock
        self._rand = rand
        self._sleep = sleep
        self.state = "starting"
        self.detail = ""
        self.since = clock()
        self.failures = 0

    @property
    def name(self) -> str:
        return self.source.name

    def _set(self, state: str, detail: str = "") -> None:
        if state != self.state:
            self.since = self._clock()
        self.state, self.detail = state, detail

    def _up(self) -> None:
        if self.failures:
            log.info(
                "source %s: connected again after %d failed attempts", self.name, self.failures
            )
        self.failures = 0
        self._set("up")

    async def run(self) -> None:
        """Until cancelled, or until the source ends on purpose."""
        while True:
            events = self.source.events()
            try:
                async for event in events:
                    if isinstance(event, SourceState):
                        if event.state == "up":
                            self._up()
                        else:
                            self._set(event.state, event.detail)
                    elif self.state != "up":
                        self._up()
                    await self._handle(event)
            except asyncio.CancelledError:
                self._set("stopped")
                raise
            except Exception as exc:
                self.failures += 1
                reason = str(exc) or type(exc).__name__
                self._set("down", reason)
                delay_s = backoff_s(self.failures, self._rand())
                if self.failures == 1:
                    log.warning(
                        "source %s: %s; reconnecting with backoff (next in %.1f s)",
                        self.name,
                        reason,
                        delay_s,
                    )
                else:
                    log.debug(
                        "source %s: attempt %d failed: %s; next in %.1f s",
                        self.name,
                        self.failures,
                        reason,
                        delay_s,
                    )
                await self._sleep(delay_s)
            else:
                self._set("stopped")
                log.info("source %s stopped", self.name)
                return
            finally:
                aclose = getattr(events, "aclose", None)
                if aclose is not None:
                    await aclose()
