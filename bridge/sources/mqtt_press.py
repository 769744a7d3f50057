"""Presses injected over MQTT: `{base}/{button}/press` becomes a click (off by default)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.models import ClickType, RawClick
from bridge.mqtt.link import MqttLink
from bridge.sources.base import Accept

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PressRequest:
    """What a press message asked for."""

    click_type: ClickType
    event_id: str | None = None


def parse_press(payload: bytes) -> PressRequest:
    """`""`/`single`/`double`/`hold`/... or JSON `{"click": "hold", "event_id": "..."}`.

    Raises ValueError naming the problem.
    """
    text = payload.decode("utf-8", errors="strict").strip()
    if not text:
        return PressRequest(ClickType.SINGLE)
    event_id: str | None = None
    if text.startswith(("{", "[", '"')):
        data = json.loads(text)
        if isinstance(data, str):
            text = data
        elif isinstance(data, dict):
            text = str(data.get("click", data.get("click_type", "single")))
            raw_id = data.get("event_id")
            if raw_id is not None and (not isinstance(raw_id, str) or not raw_id.strip()):
                raise ValueError("event_id must be a non-empty string")
            event_id = raw_id
        else:
            raise ValueError("expected a click type or an object with `click`")
    try:
        return PressRequest(ClickType(text.strip().lower()), event_id)
    except ValueError:
        kinds = ", ".join(c.value for c in ClickType)
        raise ValueError(f"unknown click type {text!r} (one of {kinds})") from None


def button_of(topic: str, base: str) -> str | None:
    """The button level of `{base}/{button}/press`, or None for any other topic."""
    prefix, suffix = f"{base}/", "/press"
    if not (topic.startswith(prefix) and topic.endswith(suffix)):
        return None
    button = topic[len(prefix) : -len(suffix)]
    return button if button and "/" not in button else None


class MqttPressInput:
    """Subscribes (on every connection of `link`) and hands presses to the runtime's accept."""

    name = "mqtt"

    def __init__(
        self,
        link: MqttLink,
        *,
        base_topic: str,
        resolve: Callable[[str], str | None],  # topic level -> button address
        accept: Accept,
        clock: Callable[[], datetime],
    ) -> None:
        self._base = base_topic
        self._resolve = resolve
        self._accept = accept
        self._clock = clock
        link.subscribe(f"{base_topic}/+/press", self._on_message)

    async def _on_message(self, topic: str, payload: bytes) -> None:
        button = button_of(topic, self._base)
        address = None if button is None else self._resolve(button)
        if address is None:
            log.warning("mqtt press on %s ignored: no such button in the config", topic)
            return
        try:
            request = parse_press(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("mqtt press on %s ignored: %s", topic, exc)
            return
        accepted = await self._accept(
            RawClick(
                address=address,
                click_type=request.click_type,
                source="mqtt",
                pressed_at=self._clock(),
                event_id=request.event_id,
            )
        )
        log.info("mqtt press on %s stored as event %s", topic, accepted.event_id)
