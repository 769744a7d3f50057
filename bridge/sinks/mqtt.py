"""The MQTT delivery target: button actions and state, bridge availability, HA discovery."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bridge.errors import DeliveryError
from bridge.models import ButtonSeen
from bridge.mqtt.discovery import (
    DiscoveryButton,
    DiscoveryContext,
    all_documents,
    own_documents_filter,
    removals,
    status_topic,
)
from bridge.mqtt.link import BrokerSettings, MqttLink, Will
from bridge.mqtt.topics import (
    action_topic,
    bridge_state_topic,
    button_topic,
    health_topic,
    identifier,
    numbered_action_topic,
    selector_topic,
)
from edgecommon.timefmt import iso_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ButtonState:
    """What `{base}/{button}` says about a button (retained).

    No `action`: a retained click would fire automations again, with no press, each time a
    client subscribes (Home Assistant restarting, automations reloading). Clicks go only to
    the unretained `{base}/{button}/action`. `bridge` names the publisher, so a bridge clears
    the retained states of its buttons that left its config, and never another bridge's.
    """

    state: str | None = None  # "On" | "Off"
    battery: int | None = None
    connected: bool | None = None
    last_seen: datetime | None = None
    bridge: str | None = None

    def payload(self) -> bytes:
        return json.dumps(
            {
                "state": self.state,
                "battery": self.battery,
                "connected": self.connected,
                "last_seen": None if self.last_seen is None else iso_utc(self.last_seen),
                "bridge": self.bridge,
            }
        ).encode()

    def seen(self, at: datetime | None) -> ButtonState:
        if at is None or (self.last_seen is not None and self.last_seen >= at):
            return self
        return replace(self, last_seen=at)


def parse_state(payload: bytes) -> ButtonState | None:
    """A retained state read back from the broker; None when it is not ours."""
    try:
        data = json.loads(payload)
        last = data.get("last_seen")
        battery = data.get("battery")
        connected = data.get("connected")
        return ButtonState(
            state=data.get("state") if data.get("state") in ("On", "Off") else None,
            bridge=data.get("bridge") if isinstance(data.get("bridge"), str) else None,
            battery=battery if isinstance(battery, int) else None,
            connected=connected if isinstance(connected, bool) else None,
            last_seen=datetime.fromisoformat(last) if isinstance(last, str) else None,
        )
    except (ValueError, AttributeError, TypeError):
        return None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class MqttSink:
    """Publishes each forwarded click to `{base}/{button}/action` and `{base}/{button}`.

    `deliver` returns only after the broker acknowledged both publishes (QoS 1), so the outbox
    marks a row delivered only when it really is on the broker. It takes every click
    (`every_click`), also those the button's mapping does not forward as a webhook.
    """

    every_click = True

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        bridge_name: str,
        buttons: Sequence[DiscoveryButton] = (),
        sw_version: str = "",
        name: str = "mqtt",
    ) -> None:
        self.name = name
        self.settings = settings
        self.base = settings.base_topic
        self.bridge_name = bridge_name
        self.buttons = list(buttons)
        self.discovery = DiscoveryContext(
            bridge_name=bridge_name,
            base_topic=settings.base_topic,
            prefix=settings.discovery_prefix,
            sw_version=sw_version,
        )
        self.link = MqttLink(
            settings,
            client_id=settings.client_id or f"flic-bridge-{identifier(bridge_name)}",
            will=Will(bridge_state_topic(self.base), b"offline"),
        )
        self.link.on_connected(self._announce)
        if settings.discovery_prefix:
            self.link.subscribe(status_topic(settings.discovery_prefix), self._on_ha_status)
        self._states: dict[str, ButtonState] = {}
        self._seeded = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.link.start()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.link.close(last=(bridge_state_topic(self.base), b"offline"))

    async def deliver(self, body: Mapping[str, Any]) -> None:
        """Publish the click: retained state first, then the action (so a retry repeats the
        idempotent state, not the action)."""
        button = body.get("flic_nameId")
        click = body.get("click_type")
        if not isinstance(button, str) or not button or not isinstance(click, str) or not click:
            raise DeliveryError(
                "forwarded body lacks flic_nameId or click_type for MQTT", permanent=True
            )
        flic_state = body.get("flic_state")
        if body.get("source") == "health":  # the bridge's own alert, not a button's click
            health = {"state": flic_state, "info": body.get("info"), "at": body.get("pressed_at")}
            topic = health_topic(self.base, button)
            await self.link.publish(topic, json.dumps(health), retain=True)
            return
        current = self._states.get(button, self._new_state())
        updated = replace(
            current,
            state=flic_state if flic_state in ("On", "Off") else current.state,
        ).seen(_parse_time(body.get("pressed_at")))
        self._states[button] = updated
        await self.link.publish(button_topic(self.base, button), updated.payload(), retain=True)
        position = body.get("position")  # a Flic Twist's selector: retained, a state too
        if isinstance(position, int) and not isinstance(position, bool):
            await self.link.publish(selector_topic(self.base, button), str(position), retain=True)
        await self.link.publish(action_topic(self.base, button), click, retain=False)
        number = body.get("button_number")
        if isinstance(number, int) and not isinstance(number, bool) and number in (0, 1):
            topic = numbered_action_topic(self.base, button, number)
            await self.link.publish(topic, click, retain=False)
        log.debug("mqtt: published %s %s (event %s)", button, click, body.get("event_id", "?"))

    def observe(self, button: str, seen: ButtonSeen) -> None:
        """Battery/connection news (not a click): update the retained state, best effort."""
        current = self._states.get(button, self._new_state())
        updated = replace(
            current,
            battery=seen.battery if seen.battery is not None else current.battery,
            connected=seen.connected if seen.connected is not None else current.connected,
        ).seen(seen.seen_at)
        if updated == current:
            return
        self._states[button] = updated
        if self.link.connected:  # otherwise the next connect publishes every state
            task = asyncio.create_task(self._publish_state(button), name=f"mqtt-state-{button}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _new_state(self) -> ButtonState:
        return ButtonState(bridge=self.bridge_name)

    def state_of(self, button: str) -> ButtonState | None:
        return self._states.get(button)

    async def _publish_state(self, button: str) -> None:
        try:
            await self.link.publish(
                button_topic(self.base, button), self._states[button].payload(), retain=True
            )
        except DeliveryError as exc:
            log.debug(
                "mqtt: state of %s not published now (%s); it will be on reconnect", button, exc
            )

    async def _announce(self) -> None:
        """On every (re)connect: availability, known states, discovery (and stale removals).

        Only `online` is essential; the rest is logged and skipped on failure (an ACL that
        forbids the discovery prefix must not keep clicks from being published).
        """
        await self.link.publish_now(bridge_state_topic(self.base), b"online", retain=True)
        try:
            if not self._seeded:
                await self._seed_states()
                self._seeded = True
            for button, state in list(self._states.items()):
                await self.link.publish_now(
                    button_topic(self.base, button), state.payload(), retain=True
                )
            if self.settings.discovery_prefix:
                await self._publish_discovery(remove_stale=True)
        except DeliveryError as exc:
            log.warning("mqtt: states/discovery not (fully) published on connect: %s", exc)

    async def _seed_states(self) -> None:
        """Read back the retained states, so a restart keeps state and battery; clear those
        this bridge published for buttons no longer in its config."""
        marker = f"{self.base}/bridge/sync/{self.link.client_id}"
        found = await self.link.collect_retained(f"{self.base}/+", marker)
        by_topic = {button_topic(self.base, b.name): b.name for b in self.buttons}
        for topic, payload in found.items():
            name = by_topic.get(topic)
            state = parse_state(payload)
            if state is None:
                continue
            if name is None:
                if state.bridge == self.bridge_name:
                    log.info("mqtt: clearing %s (button no longer configured)", topic)
                    await self.link.publish_now(topic, b"", retain=True)
            elif name not in self._states:
                self._states[name] = replace(state, bridge=self.bridge_name)

    async def _publish_discovery(self, *, remove_stale: bool) -> None:
        docs = all_documents(self.buttons, self.discovery)
        stale = []
        if remove_stale:
            marker = f"{self.base}/bridge/sync/{self.link.client_id}"
            published = await self.link.collect_retained(
                own_documents_filter(self.discovery), marker
            )
            stale = removals(published, docs)
        for doc in docs:
            await self.link.publish_now(doc.topic, doc.payload(), retain=True)
        for doc in stale:
            log.info("mqtt: removing Home Assistant discovery %s (no longer configured)", doc.topic)
            await self.link.publish_now(doc.topic, doc.payload(), retain=True)

    async def _on_ha_status(self, _topic: str, payload: bytes) -> None:
        if payload.strip() == b"online":
            log.info("mqtt: Home Assistant came online: publishing discovery again")
            await self._publish_discovery(remove_stale=False)


def discovery_buttons(
    buttons: Sequence[tuple[str, str, Sequence[str]]], *, model: str = "Flic button"
) -> list[DiscoveryButton]:
    """(address, name, click types) triples -> discovery buttons, click types deduplicated."""
    result = []
    for address, name, clicks in buttons:
        ordered = tuple(dict.fromkeys(clicks))
        result.append(DiscoveryButton(address=address, name=name, click_types=ordered, model=model))
    return result
