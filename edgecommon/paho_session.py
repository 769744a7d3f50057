"""One paho client from CONNECT to loss, its callbacks hopping to the event loop, and its acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
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
