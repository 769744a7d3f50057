"""sd_notify over $NOTIFY_SOCKET in pure Python, and a watchdog fed only by real progress."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to the service manager; does nothing outside systemd."""

    def __init__(self, socket_path: str | None, watchdog_usec: int | None = None) -> None:
        self.socket_path = socket_path or None
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as systemd sets them."""
        env = os.environ if env is None else env
        usec: int | None = None
        pid = env.get("WATCHDOG_PID", "")
        if not pid or pid == str(os.getpid()):
            try:
                usec = int(env.get("WATCHDOG_USEC", ""))
            except ValueError:
                usec = None
        return cls(env.get("NOTIFY_SOCKET"), usec)

    @property
    def enabled(self) -> bool:
        return self.socket_path is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """Half the watchdog timeout, as sd_watchdog_enabled(3) recommends; None when off."""
        if self.watchdog_usec is None or not self.enabled:
            return None
        return self.watchdog_usec / 2_000_000

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` lines in one datagram; False (logged once) if it cannot be sent."""
        if self.socket_path is None:
            return False
        address = self.socket_path
        if address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        payload = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)  # a full queue must never stall the event loop
                sock.sendto(payload, address)
        except OSError as exc:
            if not self._warned:
                log.warning("sd_notify to %s failed: %s", self.socket_path, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        """RELOADING=1 with the CLOCK_MONOTONIC stamp systemd's notify-reload protocol wants."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")


class Heartbeat:
    """A worker calls `beat()` each time round its loop, busy or idle; `age_s()` is since when."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()  # a float store: safe from any thread

    def age_s(self) -> float:
        return self._clock() - self._last


def heartbeats_fresh(beats: list[Heartbeat], max_age_s: float) -> Callable[[], list[str]]:
    """A progress check: the names of the heartbeats older than `max_age_s` (empty: all well)."""

    def stale() -> list[str]:
        return [hb.name for hb in beats if hb.age_s() > max_age_s]

    return stale


async def run_watchdog(
    notifier: Notifier,
    stalled: Callable[[], list[str]],
    *,
    interval_s: float | None = None,
) -> None:
    """Ping WATCHDOG=1 every half timeout while `stalled()` names nothing; silent while it does."""
    interval_s = interval_s or notifier.watchdog_interval_s
    if interval_s is None:
        return
    wedged: list[str] = []
    while True:
        try:
            now_wedged = stalled()
        except Exception:
            log.exception("watchdog progress check failed; withholding the ping")
            now_wedged = ["progress-check"]
        if now_wedged:
            if now_wedged != wedged:
                log.error("work is wedged (%s): withholding watchdog pings", ", ".join(now_wedged))
                notifier.status(f"wedged: {', '.join(now_wedged)}")
        else:
            if wedged:
                log.info("work is progressing again: watchdog pings resume")
                notifier.status("running")
            notifier.watchdog()
        wedged = now_wedged
        await asyncio.sleep(interval_s)
