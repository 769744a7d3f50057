"""Alert changes to MQTT: retained `{base}/alerts/{source_name}` and `{base}/alerts/events`.

Each change's messages are stored in the durable `mqtt_queue` table by the transaction that
makes the change, then published in order with QoS 1 and deleted once the broker acknowledged
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi import FastAPI

from edgecommon.paho_session import ConnectOptions
from edgecommon.sdnotify import Heartbeat
from server.alerts.events import AlertChange
from server.context import AppContext
from server.metrics import Sample
from server.mqtt.client import MqttPublisherLink, PublishError
from server.mqtt.config import DEFAULT_CLIENT_ID, MqttSection
from server.mqtt.queue import OutgoingMessage, failed, insert, oldest, pending, remove

log = logging.getLogger("server.mqtt")

# A message the broker keeps refusing (an ACL, say) is dropped after this many tries rather
# than holding up every later alert change forever.
MAX_REFUSALS = 5
IDLE_POLL_S = 1.0
# The advisory lock servers sharing a PostgreSQL database take to be the one publisher.
PUBLISHER_LOCK = 0x666C6D71  # "flmq"
# Wildcards, `/`, and what brokers refuse in a topic (mosquitto drops the connection over it):
# C0/C1 controls and DEL, lone surrogates, Unicode non-characters.
_UNSAFE = re.compile(
    r"[+#/\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF) for p in range(1, 17))
    + "]"
)

_EVENT_NAMES = {
    "open": "opened",
    "append": "appended",
    "acknowledge": "acknowledged",
    "close": "closed",
    "reopen": "reopened",
}


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# `events` under `{base}/alerts/` is the unretained event stream, not a source.
_RESERVED = re.compile(r"_*events")


def source_topic(base: str, source_name: str) -> str:
    """`{base}/alerts/{source_name}`; wildcards, `/` and control characters become `_`.

    A source whose level would be `events` (a button or PagerDuty `dedup_key` of that name)
    would leave its retained state on the event stream, where every new subscriber gets it:
    it becomes `_events` (and `_events` becomes `__events`, so no two names meet).
    """
    level = _UNSAFE.sub("_", source_name.strip()) or "_"
    if _RESERVED.fullmatch(level):
        level = "_" + level
    return f"{base}/alerts/{level}"


def events_topic(base: str) -> str:
    return f"{base}/alerts/events"


def alert_messages(change: AlertChange, base: str) -> list[OutgoingMessage]:
    """The retained per-source state, then the lifecycle event (pure)."""
    state = {
        "alert_id": change.alert_id,
        "status": change.status,
        "title": change.title,
        "priority": change.priority,
        "at": iso_utc(change.at),
    }
    event = {
        "event": _EVENT_NAMES.get(change.kind, change.kind),
        "kind": change.kind,
        "alert_id": change.alert_id,
        "integration_id": change.integration_id,
        "source_name": change.source_name,
        "status": change.status,
        "title": change.title,
        "priority": change.priority,
        "at": iso_utc(change.at),
        "message_id": change.message_id,
    }
    return [
        OutgoingMessage(source_topic(base, change.source_name), _json(state), retain=True),
        OutgoingMessage(events_topic(base), _json(event), retain=False),
    ]


def _json(data: dict[str, object]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def broker_options(section: MqttSection) -> ConnectOptions:
    return ConnectOptions(
        host=section.host,
        port=section.port,
        client_id=section.client_id,
        username=section.username or None,
        password=section.password,
        protocol=section.protocol,
        tls=section.tls,
        ca_file=section.ca_file or None,  # "" (say, from the environment) means "not set"
        cert_file=section.cert_file or None,
        key_file=section.key_file or None,
        tls_insecure=section.tls_insecure,
        keepalive_s=section.keepalive_s,
    )


class AlertMqttPublisher:
    """Stores every alert change in the queue, and drains the queue to the broker in order."""

    def __init__(self, ctx: AppContext, section: MqttSection) -> None:
        self._ctx = ctx
        self._base = section.base_topic
        self.link = MqttPublisherLink(broker_options(section))
        self._wake = asyncio.Event()
        self.heartbeat = Heartbeat("mqtt-publisher")  # beaten each time round the drain loop

    def store_change(self, change: AlertChange) -> None:
        """The store's change hook: queue the messages in the transaction that makes the change.

        So a change is never committed without its MQTT messages, even if the server dies a
        moment after the commit.
        """
        insert(self._ctx.store.db, alert_messages(change, self._base), self._ctx.clock())

    async def on_change(self, change: AlertChange) -> None:
        """The AlertChange subscriber (after the commit): wake the drain loop."""
        self._wake.set()

    async def run(self) -> None:
        """Publish queued messages oldest first, forever (a supervised app task)."""
        await self.link.start()
        try:
            while True:
                self.heartbeat.beat()
                self._wake.clear()
                if not self.link.connected:
                    await self.link.wait_connected(IDLE_POLL_S)  # broker down is idle, not wedged
                    continue
                db = self._ctx.store.db
                if not await self._ctx.db.run(db.try_lead, PUBLISHER_LOCK):
                    # Another server publishes the shared queue: one publisher keeps the order.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), IDLE_POLL_S)
                    continue
                batch = await self._ctx.db.run(oldest, db, 100)
                if not batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), IDLE_POLL_S)
                    continue
                for message in batch:
                    self.heartbeat.beat()
                    if not await self._publish(
                        message.id, message.topic, message.payload, message.retain, message.attempts
                    ):
                        break
        finally:
            await self.link.close()

    async def _publish(
        self, message_id: int, topic: str, payload: bytes, retain: bool, attempts: int
    ) -> bool:
        """True when the row is done with (published, or dropped after repeated refusals)."""
        db = self._ctx.store.db
        try:
            await self.link.publish(topic, payload, retain=retain)
        except PublishError as exc:
            if not self.link.connected:
                return False  # the broker went away: wait for it, keep the order
            await self._ctx.db.run(failed, db, message_id, str(exc))
            if attempts + 1 >= MAX_REFUSALS:
                log.error(
                    "mqtt: dropping the message to %s after %d refusals: %s",
                    topic,
                    attempts + 1,
                    exc,
                )
                await self._ctx.db.run(remove, db, message_id)
                return True
            log.warning("mqtt: publish to %s refused: %s", topic, exc)
            await asyncio.sleep(1.0)
            return False
        await self._ctx.db.run(remove, db, message_id)
        return True

    async def pending(self) -> int:
        return await self._ctx.db.run(pending, self._ctx.store.db)


def mqtt_plugin(app: FastAPI, ctx: AppContext) -> None:
    """Subscribe to alert changes and run the publisher when `[mqtt] enabled`."""
    section = ctx.config.section("mqtt", MqttSection)
    if not section.enabled:
        return
    if ctx.store.db.dialect != "sqlite" and section.client_id == DEFAULT_CLIENT_ID:
        # Servers sharing a database share a broker: the same client id would cut each other off.
        unique = f"{DEFAULT_CLIENT_ID}-{socket.gethostname()}-{ctx.config.server.port}"
        section = section.model_copy(update={"client_id": unique})
    publisher = AlertMqttPublisher(ctx, section)
    ctx.provide(publisher)
    ctx.heartbeats.append(publisher.heartbeat)
    ctx.store.change_hooks.append(publisher.store_change)
    ctx.events.subscribe("mqtt", publisher.on_change)
    ctx.add_task("mqtt-publisher", publisher.run)

    def connected() -> Iterable[Sample]:
        yield ("alert_server_mqtt_connected", (), 1.0 if publisher.link.connected else 0.0)

    def queued() -> Iterable[Sample]:
        yield ("alert_server_mqtt_queue_pending", (), float(pending(ctx.store.db)))

    ctx.metrics.add_collector(
        "alert_server_mqtt_connected", "1 while the MQTT broker is connected.", connected
    )
    ctx.metrics.add_collector(
        "alert_server_mqtt_queue_pending", "MQTT messages stored, not yet acknowledged.", queued
    )
