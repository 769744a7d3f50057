"""The alert server's MQTT connection: edgecommon's paho session, kept up with backoff.

A fresh paho client per connection (see `edgecommon.paho_session`), so only the durable queue
ever resends a message, in its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl

from edgecommon.backoff import backoff_s
from edgecommon.paho_session import ConnectOptions, Session, SessionError, close_session
from edgecommon.paho_session import open_session as open_paho_session
from server.errors import AlertServerError

log = logging.getLogger("server.mqtt_client")

RECONNECT_CAP_S = 15.0  # reconnects: 0.5 s doubling to 15 s, jittered (as the bridge's)


class PublishError(AlertServerError):
    """The broker did not take a message (not connected, refused, or no ack in time)."""


class MqttPublisherLink:
    """Keeps one connection up (jittered backoff) and publishes with QoS 1, awaiting PUBACK."""

    def __init__(self, options: ConnectOptions, *, publish_timeout_s: float = 10.0) -> None:
        self.options = options
        self.publish_timeout_s = publish_timeout_s
        self._session: Session | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def broker(self) -> str:
        return f"{self.options.host}:{self.options.port}"

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="mqtt-connection")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_connected(self, timeout_s: float | None = None) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        return self._ready.is_set()

    async def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """QoS 1; returns once the broker acknowledged, raises PublishError otherwise."""
        session = self._session
        if session is None or not self._ready.is_set():
            raise PublishError(f"not connected to the MQTT broker at {self.broker}")
        try:
            await session.publish(
                topic, payload, qos=1, retain=retain, timeout_s=self.publish_timeout_s
            )
        except SessionError as exc:
            raise PublishError(str(exc)) from exc

    async def _supervise(self) -> None:
        failures = 0
        while True:
            session: Session | None = None
            try:
                session = await self._open()
                if failures:
                    log.info(
                        "mqtt: connected to %s again after %d failure(s)", self.broker, failures
                    )
                else:
                    log.info("mqtt: connected to %s", self.broker)
                failures = 0
                self._session = session
                self._ready.set()
                await session.watch()
                log.warning("mqtt: connection to %s lost: %s", self.broker, session.lost_reason)
            except (OSError, ssl.SSLError, PublishError) as exc:
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(level, "mqtt: broker %s unavailable: %s", self.broker, exc)
            finally:
                self._ready.clear()
                self._session = None
                if session is not None:
                    await close_session(session)
            await asyncio.sleep(backoff_s(max(1, failures), random.random(), cap_s=RECONNECT_CAP_S))

    async def _open(self) -> Session:
        try:
            return await open_paho_session(self.options)
        except SessionError as exc:
            raise PublishError(str(exc)) from exc
