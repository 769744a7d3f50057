"""Home Assistant MQTT discovery documents for the bridge and its buttons (pure functions).

Layout: `{prefix}/{component}/{node_id}/{object_id}/config`, retained. `node_id` is per bridge,
so a bridge can find (and remove) exactly the documents it published before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.mqtt.topics import (
    action_topic,
    address_id,
    bridge_state_topic,
    button_topic,
    identifier,
    numbered_action_topic,
    selector_topic,
)

# Click type -> (device trigger `type`, `subtype`). The first three are types Home Assistant's
# frontend names ("First button pressed"); the rest render as "<subtype> <type>".
_TRIGGER_TYPES: dict[str, str] = {
    "single": "button_short_press",
    "double": "button_double_press",
    "hold": "button_long_press",
    "click": "button_click",
    "down": "button_down",
    "up": "button_short_release",
}


@dataclass(frozen=True, slots=True)
class DiscoveryButton:
    """What discovery needs to know of one configured button."""

    address: str
    name: str
    click_types: tuple[str, ...]  # every one it makes (mapped or not), in a stable order
    model: str = "Flic button"
    button_count: int = 1  # a Flic Duo has 2: device triggers per button (subtype button_N)
    has_selector: bool = False  # a Flic Twist: a sensor for its selector position


@dataclass(frozen=True, slots=True)
class DiscoveryContext:
    """Where this bridge publishes."""

    bridge_name: str
    base_topic: str
    prefix: str
    sw_version: str = ""


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    """One retained discovery publish; `config is None` removes the entity."""

    topic: str
    config: dict[str, Any] | None

    def payload(self) -> bytes:
        return b"" if self.config is None else json.dumps(self.config, sort_keys=True).encode()


def node_id(bridge_name: str) -> str:
    return f"flic_edge_{identifier(bridge_name)}"


def bridge_identifier(bridge_name: str) -> str:
    return f"flic_edge_bridge_{identifier(bridge_name)}"


def status_topic(prefix: str) -> str:
    """Home Assistant's birth/will topic: `online` asks every device to publish discovery again."""
    return f"{prefix}/status"


def own_documents_filter(ctx: DiscoveryContext) -> str:
    """A subscription that matches every discovery document this bridge publishes."""
    return f"{ctx.prefix}/+/{node_id(ctx.bridge_name)}/+/config"


def trigger_type(click_type: str) -> str:
    return _TRIGGER_TYPES.get(click_type, f"button_{identifier(click_type)}")


def _topic(ctx: DiscoveryContext, component: str, object_id: str) -> str:
    return f"{ctx.prefix}/{component}/{node_id(ctx.bridge_name)}/{object_id}/config"


def _origin(ctx: DiscoveryContext) -> dict[str, Any]:
    origin: dict[str, Any] = {"name": "flic-edge"}
    if ctx.sw_version:
        origin["sw_version"] = ctx.sw_version
    return origin


def _availability(ctx: DiscoveryContext) -> list[dict[str, str]]:
    return [
        {
            "topic": bridge_state_topic(ctx.base_topic),
            "payload_available": "online",
            "payload_not_available": "offline",
        }
    ]


def bridge_device(ctx: DiscoveryContext) -> dict[str, Any]:
    device: dict[str, Any] = {
        "identifiers": [bridge_identifier(ctx.bridge_name)],
        "name": f"Flic bridge {ctx.bridge_name}",
        "manufacturer": "flic-edge",
        "model": "flic-bridge",
    }
    if ctx.sw_version:
        device["sw_version"] = ctx.sw_version
    return device


def button_device(button: DiscoveryButton, ctx: DiscoveryContext) -> dict[str, Any]:
    return {
        "identifiers": [address_id(button.address)],
        "connections": [["bluetooth", button.address.lower()]],
        "name": button.name,
        "manufacturer": "Flic",
        "model": button.model,
        "via_device": bridge_identifier(ctx.bridge_name),
    }


def bridge_documents(ctx: DiscoveryContext) -> list[DiscoveryMessage]:
    """The bridge itself: a connectivity sensor bound to `{base}/bridge/state`."""
    config = {
        "name": "Connection state",
        "unique_id": f"{bridge_identifier(ctx.bridge_name)}_connection_state",
        "state_topic": bridge_state_topic(ctx.base_topic),
        "payload_on": "online",
        "payload_off": "offline",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "device": bridge_device(ctx),
        "origin": _origin(ctx),
    }
    return [DiscoveryMessage(_topic(ctx, "binary_sensor", "bridge_connection_state"), config)]


def button_documents(button: DiscoveryButton, ctx: DiscoveryContext) -> list[DiscoveryMessage]:
    """Event entity, one device trigger per click type, battery, connectivity and On/Off state."""
    ident = address_id(button.address)
    device = button_device(button, ctx)
    actions = action_topic(ctx.base_topic, button.name)
    state = button_topic(ctx.base_topic, button.name)
    common: dict[str, Any] = {
        "availability": _availability(ctx),
        "device": device,
        "origin": _origin(ctx),
        "qos": 1,
    }
    docs = [
        DiscoveryMessage(
            _topic(ctx, "event", f"{ident}_action"),
            {
                "name": "Action",
                "unique_id": f"{ident}_action",
                "state_topic": actions,
                # the action topic carries the bare click type; the event entity wants JSON
                "value_template": '{"event_type": "{{ value }}"}',
                "event_types": list(button.click_types),
                "device_class": "button",
                **common,
            },
        ),
        DiscoveryMessage(
            _topic(ctx, "sensor", f"{ident}_battery"),
            {
                "name": "Battery",
                "unique_id": f"{ident}_battery",
                "state_topic": state,
                "value_template": "{{ value_json.battery }}",
                "device_class": "battery",
                "unit_of_measurement": "%",
                "state_class": "measurement",
                "entity_category": "diagnostic",
                **common,
            },
        ),
        DiscoveryMessage(
            _topic(ctx, "binary_sensor", f"{ident}_connected"),
            {
                "name": "Connected",
                "unique_id": f"{ident}_connected",
                "state_topic": state,
                "value_template": (
                    "{% if value_json.connected is none %}None"
                    "{% elif value_json.connected %}ON{% else %}OFF{% endif %}"
                ),
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                **common,
            },
        ),
        DiscoveryMessage(
            _topic(ctx, "sensor", f"{ident}_state"),
            {
                "name": "Alert state",
                "unique_id": f"{ident}_state",
                "state_topic": state,
                "value_template": "{{ value_json.state }}",
                "icon": "mdi:alarm-light",
                **common,
            },
        ),
    ]
    if button.has_selector:
        docs.append(
            DiscoveryMessage(
                _topic(ctx, "sensor", f"{ident}_selector"),
                {
                    "name": "Selector position",
                    "unique_id": f"{ident}_selector",
                    "state_topic": selector_topic(ctx.base_topic, button.name),
                    "icon": "mdi:rotate-right",
                    **common,
                },
            )
        )
    docs.extend(_triggers(button, ctx, device))
    return docs


def _triggers(
    button: DiscoveryButton, ctx: DiscoveryContext, device: dict[str, Any]
) -> list[DiscoveryMessage]:
    """One device trigger per click type, and per button of a multi-button device: a Duo's
    `button_2` triggers listen to its small button only, its `button_1` ones to the big one."""
    ident = address_id(button.address)
    docs = []
    for number in range(button.button_count):
        topic = (
            action_topic(ctx.base_topic, button.name)
            if button.button_count == 1
            else numbered_action_topic(ctx.base_topic, button.name, number)
        )
        # Button 1 keeps the single-button object ids, so a device learnt as a Duo later
        # updates its triggers in place instead of doubling them.
        stem = ident if number == 0 else f"{ident}_button_{number + 1}"
        for click in button.click_types:
            docs.append(
                DiscoveryMessage(
                    _topic(ctx, "device_automation", f"{stem}_{identifier(click)}"),
                    {
                        "automation_type": "trigger",
                        "topic": topic,
                        "payload": click,
                        "type": trigger_type(click),
                        "subtype": f"button_{number + 1}",
                        "qos": 1,
                        "device": device,
                        "origin": _origin(ctx),
                    },
                )
            )
    return docs


def all_documents(
    buttons: Sequence[DiscoveryButton], ctx: DiscoveryContext
) -> list[DiscoveryMessage]:
    """Everything this bridge announces, bridge first."""
    docs = bridge_documents(ctx)
    for button in buttons:
        docs.extend(button_documents(button, ctx))
    return docs


def removals(
    published: Iterable[str], wanted: Sequence[DiscoveryMessage]
) -> list[DiscoveryMessage]:
    """Empty retained payloads for documents published before that the config no longer has."""
    keep = {m.topic for m in wanted}
    return [DiscoveryMessage(topic, None) for topic in sorted(set(published) - keep)]
