"""The bridge's MQTT topic names (pure): one place so the sink, discovery and press agree."""

from __future__ import annotations

import re
from collections.abc import Sequence

# What a broker refuses in a topic (mosquitto drops the connection over any of it): the C0 and
# C1 control characters with DEL, lone surrogates, and the Unicode non-characters.
_REFUSED = r"\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff" + "".join(
    chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF) for p in range(1, 17)
)
_REFUSED_CHARS = re.compile(f"[{_REFUSED}]")
_UNSAFE_SEGMENT = re.compile(f"[+#/{_REFUSED}]")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def segment(name: str) -> str:
    """A name as one topic level: wildcards, `/` and what brokers refuse (controls) become `_`."""
    return _UNSAFE_SEGMENT.sub("_", name.strip()) or "_"


def clean_topic(topic: str) -> str:
    """A whole topic (levels kept) without the characters a broker refuses: each becomes `_`."""
    return _REFUSED_CHARS.sub("_", topic)


def shared_topics(names: Sequence[str]) -> list[tuple[int, int]]:
    """(first, later) index pairs of names that become the same topic level (`a/b` and `a_b`)."""
    first: dict[str, int] = {}
    pairs = []
    for i, name in enumerate(names):
        level = segment(name)
        if level in first and names[first[level]] != name:
            pairs.append((first[level], i))
        first.setdefault(level, i)
    return pairs


def bridge_state_topic(base: str) -> str:
    return f"{base}/bridge/state"


def button_topic(base: str, button: str) -> str:
    """The retained JSON state of a button."""
    return f"{base}/{segment(button)}"


def action_topic(base: str, button: str) -> str:
    """One message per click, never retained."""
    return f"{button_topic(base, button)}/action"


def numbered_action_topic(base: str, button: str, button_number: int) -> str:
    """A Flic Duo's clicks again, per button: `button_1` the big one, `button_2` the small one."""
    return f"{button_topic(base, button)}/button_{button_number + 1}/action"


def selector_topic(base: str, button: str) -> str:
    """A Flic Twist's selector position (0-11), retained: a state, not an action."""
    return f"{button_topic(base, button)}/selector"


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
