"""The alert server's MQTT connection: paho on its own thread, publishes awaited by message id.

A fresh paho client per connection: paho would otherwise resend, after a reconnect, messages it
still holds in memory, behind the durable queue's back and out of its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from server.errors import AlertServerError

log = logging.getLogger("server.mqtt_client")


class PublishError(AlertServerError):
    """The broker did not take a message (not connected, refused, or no ack in time)."""


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    protocol: str = "3.1.1"  # or "5"
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    publish_timeout_s: float = 10.0


class _Connection:
    """One paho client from CONNECT to loss; callbacks hop to the event loop."""

    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop
        self.connack: asyncio.Future[ReasonCode] = loop.create_future()
        self.lost = asyncio.Event()
        self.reason = ""
        self.waiters: dict[int, asyncio.Future[ReasonCode]] = {}
        self.early: dict[int, ReasonCode] = {}
        self.thread: threading.Thread | None = None

    def post(self, fn: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: nobody waits any more
            self.loop.call_soon_threadsafe(fn, *args)

    def mark_lost(self, reason: str) -> None:
        if self.lost.is_set():
            return
        self.reason = reason
        self.lost.set()
        if not self.connack.done():
            self.connack.set_exception(PublishError(reason))
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(PublishError(f"connection lost before the ack: {reason}"))
        self.waiters.clear()

    def acked(self, mid: int, reason: ReasonCode) -> None:
        fut = self.waiters.pop(mid, None)
        if fut is None:
            self.early[mid] = reason
        elif not fut.done():
            fut.set_result(reason)

    def set_connack(self, reason: ReasonCode) -> None:
        if not self.connack.done():
            self.connack.set_result(reason)


class MqttPublisherLink:
    """Keeps one connection up (jittered backoff) and publishes with QoS 1, awaiting PUBACK."""

    def __init__(self, options: BrokerOptions) -> None:
        self.options = options
        self._conn: _Connection | None = None
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
        conn = self._conn
        if conn is None or not self._ready.is_set() or conn.lost.is_set():
            raise PublishError(f"not connected to the MQTT broker at {self.broker}")
        try:
            info = conn.client.publish(topic, payload, qos=1, retain=retain)
        except ValueError as exc:
            raise PublishError(f"cannot publish to {topic!r}: {exc}") from exc
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        reason = conn.early.pop(info.mid, None)
        if reason is None:
            fut: asyncio.Future[ReasonCode] = conn.loop.create_future()
            conn.waiters[info.mid] = fut
            try:
                reason = await asyncio.wait_for(fut, self.options.publish_timeout_s)
            except TimeoutError:
                raise PublishError(
                    f"no ack for {topic} in {self.options.publish_timeout_s}s"
                ) from None
            finally:
                conn.waiters.pop(info.mid, None)
        if reason.is_failure:
            raise PublishError(f"broker refused the publish to {topic}: {reason}")

    async def _supervise(self) -> None:
        failures = 0
        while True:
            conn: _Connection | None = None
            try:
                conn = await self._connect()
                if failures:
                    log.info(
                        "mqtt: connected to %s again after %d failure(s)", self.broker, failures
                    )
                else:
                    log.info("mqtt: connected to %s", self.broker)
                failures = 0
                self._conn = conn
                self._ready.set()
                while not conn.lost.is_set():
                    if conn.thread is None or not conn.thread.is_alive():
                        conn.mark_lost("the MQTT network thread stopped")
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(conn.lost.wait(), 0.5)
                log.warning("mqtt: connection to %s lost: %s", self.broker, conn.reason)
            except (OSError, ssl.SSLError, PublishError) as exc:
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(level, "mqtt: broker %s unavailable: %s", self.broker, exc)
            finally:
                self._ready.clear()
                self._conn = None
                if conn is not None:
                    await self._teardown(conn)
            base = min(15.0, 0.5 * 2.0 ** max(0, failures - 1))
            await asyncio.sleep(base * (0.75 + 0.5 * random.random()))

    async def _connect(self) -> _Connection:
        o = self.options
        v5 = o.protocol == "5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=o.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
            reconnect_on_failure=False,
        )
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.tls:
            client.tls_set(ca_certs=o.ca_file, certfile=o.cert_file, keyfile=o.key_file)
            client.tls_insecure_set(o.tls_insecure)
        conn = _Connection(client, asyncio.get_running_loop())
        _install_callbacks(conn)
        if v5:
            await asyncio.to_thread(client.connect, o.host, o.port, o.keepalive_s, clean_start=True)
        else:
            await asyncio.to_thread(client.connect, o.host, o.port, o.keepalive_s)
        client.loop_start()
        # paho sets this to None when its network thread ends, whatever the reason.
        conn.thread = getattr(client, "_thread", None)
        try:
            reason = await asyncio.wait_for(conn.connack, 10.0)
        except TimeoutError:
            await self._teardown(conn)
            raise PublishError("no CONNACK from the broker in 10s") from None
        except PublishError:
            await self._teardown(conn)
            raise
        if reason.is_failure:
            await self._teardown(conn)
            raise PublishError(f"broker refused the connection: {reason}")
        return conn

    async def _teardown(self, conn: _Connection) -> None:
        conn.mark_lost(conn.reason or "closed")
        with contextlib.suppress(Exception):
            conn.client.disconnect()
        await asyncio.to_thread(conn.client.loop_stop)


def _install_callbacks(conn: _Connection) -> None:
    """Each callback is guarded: an exception in one would end paho's network thread."""

    def on_connect(
        _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: Properties | None = None
    ) -> None:
        try:
            conn.post(conn.set_connack, reason)
        except Exception:
            log.exception("mqtt: on_connect failed")

    def on_disconnect(
        _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: Properties | None = None
    ) -> None:
        try:
            conn.post(conn.mark_lost, f"disconnected ({reason})")
        except Exception:
            log.exception("mqtt: on_disconnect failed")

    def on_publish(
        _c: mqtt.Client, _u: object, mid: int, reason: ReasonCode, _p: Properties
    ) -> None:
        try:
            conn.post(conn.acked, mid, reason)
        except Exception:
            log.exception("mqtt: on_publish failed")

    conn.client.on_connect = on_connect
    conn.client.on_disconnect = on_disconnect
    conn.client.on_publish = on_publish
