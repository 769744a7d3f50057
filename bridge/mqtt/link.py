"""The bridge's one MQTT connection: paho on its own thread, every publish awaited by message id.

Each connection is a fresh paho client (`edgecommon.paho_session`): a message that failed here
is retried by the durable outbox only, in order, never resurrected out of order by paho.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from bridge.errors import DeliveryError
from edgecommon.backoff import backoff_s
from edgecommon.paho_session import (
    ConnectOptions,
    DroppedAfterPublishError,
    Session,
    SessionError,
    close_session,
    open_session,
)
from edgecommon.sdnotify import Heartbeat

log = logging.getLogger(__name__)

# The broker dropping the connection right after this many publishes to one topic in a row
# (and no ack between) means it refuses that message: the topic is refused for good, so one
# bad row becomes a dead letter instead of a reconnect loop that outlives restarts.
MQTT_BACKOFF_CAP_S = 15.0  # reconnects: 0.5 s doubling to 15 s, jittered
DROP_LIMIT = 3

MessageHandler = Callable[[str, bytes], Awaitable[None]]
ConnectedHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Broker connection and topic layout, as the `[mqtt]` config section gives them."""

    host: str = "127.0.0.1"
    port: int = 1883
    base_topic: str = "flic"
    discovery_prefix: str = "homeassistant"  # "" turns Home Assistant discovery off
    client_id: str = ""  # "" means "flic-bridge-<bridge name>"
    username: str | None = None
    password: str | None = None
    protocol: str = "3.1.1"  # or "5"
    tls: bool = False
    ca_file: str | None = None  # None with tls: the system's trusted CAs
    cert_file: str | None = None  # client certificate, if the broker asks for one
    key_file: str | None = None
    tls_insecure: bool = False  # skip the host name check (self-signed test brokers only)
    keepalive_s: int = 30
    publish_timeout_s: float = 10.0
    accept_press: bool = False  # subscribe to {base}/{button}/press (off by default)


@dataclass(frozen=True, slots=True)
class Will:
    """The last will the broker publishes (retained) when the connection dies uncleanly."""

    topic: str
    payload: bytes


class MqttLink:
    """A supervised MQTT connection: reconnects with backoff, resubscribes, runs connect hooks."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        client_id: str,
        will: Will | None = None,
        connect_wait_s: float = 3.0,
    ) -> None:
        self.settings = settings
        self.client_id = client_id
        self._will = will
        self._connect_wait_s = connect_wait_s
        self._subscriptions: dict[str, MessageHandler] = {}
        self._hooks: list[ConnectedHook] = []
        self._session: Session | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._collectors: list[Callable[[str, bytes], bool]] = []
        self._drops: dict[str, int] = {}  # topic -> connections lost right after publishing it
        self.refused: dict[str, str] = {}  # topic -> why it is not published again (this run)
        # Beaten each time round the supervisor's loops: connected, backing off or connecting.
        self.heartbeat = Heartbeat(f"mqtt-link:{client_id}")

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    @property
    def broker(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Call `handler(topic, payload)` for messages on `topic_filter`, on every connection."""
        self._subscriptions[topic_filter] = handler

    def on_connected(self, hook: ConnectedHook) -> None:
        """Run `hook` after each (re)connect, before publishes from others are accepted."""
        self._hooks.append(hook)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"mqtt-link-{self.client_id}")

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        return self._ready.is_set()

    async def publish(
        self, topic: str, payload: bytes | str, *, retain: bool = False, qos: int = 1
    ) -> None:
        """Publish and wait for the broker's ack; DeliveryError when not connected or not acked."""
        if not self._ready.is_set() and not await self.wait_connected(self._connect_wait_s):
            raise DeliveryError(f"not connected to the MQTT broker at {self.broker}")
        session = self._session
        if session is None:
            raise DeliveryError(f"not connected to the MQTT broker at {self.broker}")
        await self._publish_on(session, topic, payload, retain=retain, qos=qos)

    async def _publish_on(
        self, session: Session, topic: str, payload: bytes | str, *, retain: bool, qos: int
    ) -> None:
        if topic in self.refused:
            raise DeliveryError(self.refused[topic], permanent=True)
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            await session.publish(
                topic, data, qos=qos, retain=retain, timeout_s=self.settings.publish_timeout_s
            )
        except DroppedAfterPublishError as exc:
            self._drops[topic] = drops = self._drops.get(topic, 0) + 1
            if drops < DROP_LIMIT:
                raise DeliveryError(str(exc)) from exc
            self._drops.pop(topic, None)
            self.refused[topic] = reason = (
                f"the broker {self.broker} dropped the connection right after each of"
                f" {drops} publishes to {topic!r} in a row: it refuses this message"
                " (not published again until the bridge restarts)"
            )
            log.error("mqtt: %s", reason)
            raise DeliveryError(reason, permanent=True) from exc
        except SessionError as exc:
            raise DeliveryError(str(exc), permanent=exc.permanent) from exc
        self._drops.pop(topic, None)
        self.heartbeat.beat()  # a long run of connect-hook publishes is progress too

    async def close(self, last: tuple[str, bytes] | None = None) -> None:
        """Publish `last` (e.g. the bridge's `offline`) if connected, then disconnect cleanly."""
        self._stopping = True
        session = self._session
        if session is not None and last is not None and self._ready.is_set():
            try:
                await self._publish_on(session, last[0], last[1], retain=True, qos=1)
            except DeliveryError as exc:
                log.warning("mqtt: could not publish %s before closing: %s", last[0], exc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._handler_tasks):
            task.cancel()

    # -- the supervisor -------------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            self.heartbeat.beat()
            session: Session | None = None
            try:
                session = await self._connect()
                if failures:
                    log.info(
                        "mqtt: connected to %s again after %d failure(s)", self.broker, failures
                    )
                else:
                    log.info("mqtt: connected to %s as %s", self.broker, self.client_id)
                failures = 0
                await self._serve(session)
                failures = 1  # the loss was logged; a failing reconnect now logs at DEBUG
            except asyncio.CancelledError:
                raise
            except (OSError, DeliveryError, ssl.SSLError) as exc:
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(level, "mqtt: broker %s unavailable: %s", self.broker, exc)
            except Exception:
                failures += 1
                log.exception("mqtt: unexpected failure of the connection to %s", self.broker)
            finally:
                self._ready.clear()
                self._session = None
                if session is not None:
                    await close_session(session)
            if not self._stopping:
                await self._sleep_beating(
                    backoff_s(failures, random.random(), cap_s=MQTT_BACKOFF_CAP_S)
                )

    async def _sleep_beating(self, delay_s: float) -> None:
        """Back off for `delay_s`, beating the heartbeat at least every second."""
        deadline_s = time.monotonic() + delay_s
        while (left_s := deadline_s - time.monotonic()) > 0:
            self.heartbeat.beat()
            await asyncio.sleep(min(1.0, left_s))

    def connect_options(self) -> ConnectOptions:
        s = self.settings
        will = None if self._will is None else (self._will.topic, self._will.payload)
        return ConnectOptions(
            host=s.host,
            port=s.port,
            client_id=self.client_id,
            username=s.username,
            password=s.password,
            protocol=s.protocol,
            tls=s.tls,
            ca_file=s.ca_file,
            cert_file=s.cert_file,
            key_file=s.key_file,
            tls_insecure=s.tls_insecure,
            keepalive_s=s.keepalive_s,
            will=will,
        )

    async def _connect(self) -> Session:
        try:
            return await open_session(self.connect_options(), self._dispatch)
        except SessionError as exc:
            raise DeliveryError(str(exc)) from exc

    async def _serve(self, session: Session) -> None:
        self._session = session
        if self._subscriptions:
            result, _mid = session.client.subscribe([(t, 1) for t in self._subscriptions])
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise DeliveryError(f"subscribe failed: {mqtt.error_string(result)}")
        for hook in self._hooks:
            await hook()
        self._ready.set()
        await session.watch(self.heartbeat.beat)
        level = logging.INFO if self._stopping else logging.WARNING
        log.log(level, "mqtt: connection to %s lost: %s", self.broker, session.lost_reason)

    def _dispatch(self, topic: str, payload: bytes) -> None:
        """On the event loop: run the handler of the first subscription that matches."""
        for collect in self._collectors:
            if collect(topic, payload):
                return
        for topic_filter, handler in self._subscriptions.items():
            if mqtt.topic_matches_sub(topic_filter, topic):
                task = asyncio.create_task(
                    _guarded(handler, topic, payload), name=f"mqtt-message-{topic}"
                )
                self._handler_tasks.add(task)
                task.add_done_callback(self._handler_tasks.discard)
                return

    async def publish_now(self, topic: str, payload: bytes | str, *, retain: bool) -> None:
        """Publish on the current connection even before it is ready (for connect hooks)."""
        session = self._session
        if session is None:
            raise DeliveryError(f"not connected to the MQTT broker at {self.broker}")
        if topic in self.refused:  # said once, loudly; a connect must not stop at it
            log.debug("mqtt: %s skipped on connect: %s", topic, self.refused[topic])
            return
        await self._publish_on(session, topic, payload, retain=retain, qos=1)

    async def collect_retained(self, topic_filter: str, marker_topic: str) -> dict[str, bytes]:
        """Every retained message under `topic_filter` now (for connect hooks).

        The broker sends retained messages right after the subscription, on the same ordered
        stream as everything after it: once our own marker comes back, all of them are in.
        """
        session = self._session
        if session is None:
            raise DeliveryError(f"not connected to the MQTT broker at {self.broker}")
        found: dict[str, bytes] = {}
        done: asyncio.Future[None] = session.loop.create_future()

        def collect(topic: str, payload: bytes) -> bool:
            if topic == marker_topic:
                if not done.done():
                    done.set_result(None)
                return True
            if mqtt.topic_matches_sub(topic_filter, topic):
                if payload:
                    found[topic] = payload
                return True
            return False

        self._collectors.append(collect)
        try:
            result, _mid = session.client.subscribe([(topic_filter, 1), (marker_topic, 1)])
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise DeliveryError(f"subscribe failed: {mqtt.error_string(result)}")
            await self._publish_on(session, marker_topic, b"sync", retain=False, qos=1)
            try:
                await asyncio.wait_for(done, self.settings.publish_timeout_s)
            except TimeoutError:
                raise DeliveryError("the broker never echoed our sync marker") from None
            session.client.unsubscribe([topic_filter, marker_topic])
        finally:
            self._collectors.remove(collect)
        return found


async def _guarded(handler: MessageHandler, topic: str, payload: bytes) -> None:
    try:
        await handler(topic, payload)
    except Exception:
        log.exception("mqtt: handler for %s failed", topic)
