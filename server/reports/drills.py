"""Drills: a body with `"drill": true` marks the alert it opens (it pages as usual, says DRILL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DRILL_WORDS = frozenset({"true", "yes", "1"})  # form and key=value bodies carry text


def drill_flag(payload: Any) -> bool:
    """Whether a parsed inbound body asks for a drill (top-level `drill`)."""
    if not isinstance(payload, Mapping):
        return False
    value = payload.get("drill")
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in DRILL_WORDS


def drill_text(text: str, drill: bool) -> str:
    """`text` with the DRILL mark in front when the alert is a drill."""
    return f"DRILL: {text}" if drill else text
