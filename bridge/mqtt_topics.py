"""The bridge's MQTT topic names (pure): one place so the sink, discovery and press agree."""

from __future__ import annotations

import re

_UNSAFE_SEGMENT = re.compile(r"[+#/\x00-\x1f]")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def segment(name: str) -> str:
    """A button name as one topic level: MQTT wildcards, `/` and control characters become `_`."""
    return _UNSAFE_SEGMENT.sub("_", name.strip()) or "_"


def bridge_state_topic(base: str) -> str:
    return f"{base}/bridge/state"


def button_topic(base: str, button: str) -> str:
    """The retained JSON state of a button."""
    return f"{base}/{segment(button)}"


def action_topic(base: str, button: str) -> str:
    """One message per click, never retained."""
    return f"{button_topic(base, button)}/action"


def press_topic(base: str, button: str) -> str:
    """Where other systems may inject a press (when enabled)."""
    return f"{button_topic(base, button)}/press"


def health_topic(base: str, key: str) -> str:
    """The retained state of one of the bridge's own health alerts (low battery, unseen, down)."""
    return f"{base}/bridge/health/{segment(key)}"


def identifier(text: str) -> str:
    """Text reduced to the characters Home Assistant accepts in node and object ids."""
    return _UNSAFE_ID.sub("_", text.strip().lower()) or "_"


def address_id(address: str) -> str:
    """A button's stable id from its Bluetooth address: `flic_80e4da712345`."""
    return "flic_" + identifier(address.replace(":", "").replace("-", ""))
