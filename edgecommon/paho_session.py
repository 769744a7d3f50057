"""One paho client from CONNECT to loss, its callbacks hopping to the event loop, and its acks.

Each connection is a fresh paho client: paho keeps unacknowledged QoS 1 messages in memory and
sends them again after a reconnect, behind a durable queue's back and out of its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)


class SessionError(Exception):
    """The session failed a connect or a publish; `permanent` says whether retrying can help.

    Each program translates it into its own error at its boundary.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class DroppedAfterPublishError(SessionError):
    """The connection was lost while a publish waited for its ack (maybe over that message)."""


CONNACK_TIMEOUT_S = 10.0
WATCH_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Where and how to connect; `will` is the retained last will as (topic, payload)."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    protocol: str = "3.1.1"  # or "5"
    tls: bool = False
    ca_file: str | None = None  # None with tls: the system's trusted CAs
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    will: tuple[str, bytes] | None = None


class Session:
    """One paho client from connect to loss; paho callbacks hop to the event loop."""

    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop
        self.connack: asyncio.Future[ReasonCode] = loop.create_future()
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self.waiters: dict[int, asyncio.Future[ReasonCode]] = {}
        self.early: dict[int, ReasonCode] = {}
        self.thread: threading.Thread | None = None

    def post(self, fn: Callable[..., None], *args: object) -> None:
        """Run `fn(*args)` on the event loop; called from paho's network thread."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            self.loop.call_soon_threadsafe(fn, *args)

    def mark_lost(self, reason: str) -> None:
        if self.lost.is_set():
            return
        self.lost_reason = reason
        self.lost.set()
        if not self.connack.done():
            self.connack.set_exception(SessionError(reason))
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(
                    DroppedAfterPublishError(f"MQTT connection lost before the ack: {reason}")
                )
        self.waiters.clear()

    def acked(self, mid: int, reason: ReasonCode) -> None:
        fut = self.waiters.pop(mid, None)
        if fut is None:
            self.early[mid] = reason
        elif not fut.done():
            fut.set_result(reason)

    def thread_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    async def watch(self, tick: Callable[[], None] | None = None) -> None:
        """Return once the connection is lost (or paho's network thread ended); `tick` each poll."""
        while not self.lost.is_set():
            if tick is not None:
                tick()
            if not self.thread_alive():
                self.mark_lost("the MQTT network thread stopped")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lost.wait(), WATCH_POLL_S)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int, retain: bool, timeout_s: float
    ) -> None:
        """Publish and return once the broker acknowledged (QoS 1) or the packet left (QoS 0)."""
        if self.lost.is_set():
            raise SessionError(f"MQTT connection lost: {self.lost_reason}")
        try:
            info = self.client.publish(topic, payload, qos=qos, retain=retain)
        except ValueError as exc:  # a topic paho refuses (wildcards, empty, too long)
            raise SessionError(f"cannot publish to {topic!r}: {exc}", permanent=True) from exc
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise SessionError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        reason = self.early.pop(info.mid, None)
        if reason is None:
            fut: asyncio.Future[ReasonCode] = self.loop.create_future()
            self.waiters[info.mid] = fut
            try:
                reason = await asyncio.wait_for(fut, timeout_s)
            except TimeoutError:
                raise SessionError(f"no ack from the broker for {topic} in {timeout_s}s") from None
            finally:
                self.waiters.pop(info.mid, None)
        if reason.is_failure:
            raise SessionError(f"broker refused the publish to {topic}: {reason}")


def install_callbacks(session: Session, dispatch: Callable[[str, bytes], None]) -> None:
    """paho callbacks: each guarded, since an exception would end paho's network thread."""

    def on_connect(
        _c: mqtt.Client,
        _u: object,
        _flags: object,
        reason: ReasonCode,
        _p: Properties | None = None,
    ) -> None:
        try:
            session.post(set_connack, session, reason)
        except Exception:
            log.exception("mqtt: on_connect failed")

    def on_disconnect(
        _c: mqtt.Client,
        _u: object,
        _flags: object,
        reason: ReasonCode,
        _p: Properties | None = None,
    ) -> None:
        try:
            session.post(session.mark_lost, f"disconnected ({reason})")
        except Exception:
            log.exception("mqtt: on_disconnect failed")

    def on_publish(
        _c: mqtt.Client, _u: object, mid: int, reason: ReasonCode, _p: Properties
    ) -> None:
        try:
            session.post(session.acked, mid, reason)
        except Exception:
            log.exception("mqtt: on_publish failed")

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            session.post(dispatch, msg.topic, bytes(msg.payload))
        except Exception:
            log.exception("mqtt: on_message failed")

    session.client.on_connect = on_connect
    session.client.on_disconnect = on_disconnect
    session.client.on_publish = on_publish
    session.client.on_message = on_message


def set_connack(session: Session, reason: ReasonCode) -> None:
    if not session.connack.done():
        session.connack.set_result(reason)


def _ignore(_topic: str, _payload: bytes) -> None:
    """The dispatch of a session that subscribes to nothing."""


def new_client(options: ConnectOptions) -> mqtt.Client:
    v5 = options.protocol == "5"
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else True,
        reconnect_on_failure=False,
    )
    if options.username is not None:
        client.username_pw_set(options.username, options.password)
    if options.tls:
        client.tls_set(
            ca_certs=options.ca_file, certfile=options.cert_file, keyfile=options.key_file
        )
        client.tls_insecure_set(options.tls_insecure)
    if options.will is not None:
        client.will_set(options.will[0], options.will[1], qos=1, retain=True)
    return client


async def open_session(
    options: ConnectOptions, dispatch: Callable[[str, bytes], None] = _ignore
) -> Session:
    """Connect a fresh client and wait for a good CONNACK.

    Raises SessionError (bad settings, no or a refusing CONNACK, lost while connecting) or the
    OSError / ssl.SSLError of the socket; the caller decides how long to back off.
    """
    client = new_client(options)
    session = Session(client, asyncio.get_running_loop())
    install_callbacks(session, dispatch)
    try:
        if options.protocol == "5":
            await asyncio.to_thread(
                client.connect, options.host, options.port, options.keepalive_s, clean_start=True
            )
        else:
            await asyncio.to_thread(client.connect, options.host, options.port, options.keepalive_s)
    except ValueError as exc:  # paho's verdict on a host, port or keepalive
        raise SessionError(f"bad MQTT settings: {exc}", permanent=True) from exc
    client.loop_start()
    # paho clears this when its network thread ends, for whatever reason; `watch` looks at it.
    session.thread = getattr(client, "_thread", None)
    try:
        reason = await asyncio.wait_for(session.connack, CONNACK_TIMEOUT_S)
    except TimeoutError:
        await close_session(session)
        raise SessionError(f"no CONNACK from the broker in {CONNACK_TIMEOUT_S:g}s") from None
    except SessionError:
        await close_session(session)
        raise
    if reason.is_failure:
        await close_session(session)
        raise SessionError(f"broker refused the connection: {reason}")
    return session


async def close_session(session: Session) -> None:
    """Fail whatever still waits, send a clean DISCONNECT (the broker drops the will), stop paho."""
    session.mark_lost(session.lost_reason or "closed")
    with contextlib.suppress(Exception):
        session.client.disconnect()
    await asyncio.to_thread(session.client.loop_stop)
