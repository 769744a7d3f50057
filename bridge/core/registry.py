"""What the bridge knows about each button: its mapping, connection, battery, last click."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bridge.config import ButtonSpec, default_button
from bridge.config.limits import MAX_UNKNOWN_BUTTONS
from bridge.models import ButtonSeen, ClickType
from bridge.mqtt.topics import segment
from edgecommon.timefmt import iso_utc

log = logging.getLogger(__name__)
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ButtonState:
    spec: ButtonSpec
    connected: bool | None = None
    battery: int | None = None
    last_click_at: datetime | None = None
    last_click_type: ClickType | None = None
    last_source: str | None = None
    last_seen_at: datetime | None = None


class ButtonRegistry:
    """Configured buttons plus every stranger a source has reported."""

    def __init__(
        self, buttons: tuple[ButtonSpec, ...], *, max_unknown: int = MAX_UNKNOWN_BUTTONS
    ) -> None:
        self._by_address: dict[str, ButtonState] = {b.address: ButtonState(b) for b in buttons}
        self.max_unknown = max_unknown
        self.forgotten = 0  # strangers forgotten to stay under `max_unknown`, this run

    def reconfigure(self, buttons: tuple[ButtonSpec, ...]) -> None:
        """New specs after a config reload; what was seen of each button is kept."""
        old = self._by_address
        fresh: dict[str, ButtonState] = {}
        for spec in buttons:
            state = old.get(spec.address)
            fresh[spec.address] = ButtonState(spec) if state is None else replace(state, spec=spec)
        for address, state in old.items():
            if address not in fresh:
                spec = state.spec if not state.spec.configured else default_button(address)
                fresh[address] = replace(state, spec=spec)
        self._by_address = fresh

    def resolve(self, address: str, name_hint: str | None = None) -> ButtonSpec:
        """The spec of `address`; a stranger gets the default mapping and is remembered."""
        address = address.lower()
        state = self._by_address.get(address)
        if state is None:
            self._make_room()
            state = ButtonState(default_button(address, self._free_name(name_hint, address)))
            self._by_address[address] = state
        return state.spec

    def unknown(self) -> int:
        """How many unconfigured buttons are remembered."""
        return sum(1 for s in self._by_address.values() if not s.spec.configured)

    def _make_room(self) -> None:
        """At the cap, forget the stranger seen longest ago (its clicks stay in the outbox)."""
        strangers = [s for s in self._by_address.values() if not s.spec.configured]
        if len(strangers) < self.max_unknown:
            return
        oldest = min(strangers, key=lambda s: (s.last_seen_at or _NEVER, s.last_click_at or _NEVER))
        del self._by_address[oldest.spec.address]
        self.forgotten += 1
        log.log(
            logging.WARNING if self.forgotten == 1 else logging.DEBUG,
            "buttons: %d unconfigured buttons remembered at most ([limits] max_unknown_buttons):"
            " forgot %s, seen longest ago (%d forgotten so far)",
            self.max_unknown,
            oldest.spec.address,
            self.forgotten,
        )

    def _free_name(self, hint: str | None, address: str) -> str:
        """The hint, unless another button has that name or its MQTT topic level."""
        taken = {segment(s.spec.name) for s in self._by_address.values()}
        if hint and segment(hint) not in taken:
            return hint
        return address

    def find(self, button: str) -> ButtonSpec | None:
        """A button by name or address (as `press` and `/api/press` name it)."""
        wanted = button.strip()
        for state in self._by_address.values():
            if state.spec.name == wanted or state.spec.address == wanted.lower():
                return state.spec
        return None

    def clicked(self, address: str, click_type: ClickType, source: str, at: datetime) -> None:
        state = self._by_address.get(address) or ButtonState(default_button(address))
        self._by_address[address] = replace(
            state, last_click_at=at, last_click_type=click_type, last_source=source, last_seen_at=at
        )

    def seen(self, news: ButtonSeen) -> None:
        self.resolve(news.address, news.name_hint)
        state = self._by_address[news.address.lower()]
        self._by_address[news.address.lower()] = replace(
            state,
            connected=state.connected if news.connected is None else news.connected,
            battery=state.battery if news.battery is None else news.battery,
            last_seen_at=news.seen_at,
        )

    def restore(self, address: str, battery: int | None, last_seen_at: datetime | None) -> None:
        """What an earlier run knew of a configured button (after a restart), where this run
        has not heard anything newer yet."""
        state = self._by_address.get(address.lower())
        if state is None:
            return
        self._by_address[address.lower()] = replace(
            state,
            battery=state.battery if state.battery is not None else battery,
            last_seen_at=state.last_seen_at or last_seen_at,
        )

    def states(self) -> list[ButtonState]:
        """Configured buttons first (in config order), then strangers by address."""
        states = list(self._by_address.values())
        return [s for s in states if s.spec.configured] + sorted(
            (s for s in states if not s.spec.configured), key=lambda s: s.spec.address
        )

    @staticmethod
    def as_json(state: ButtonState) -> dict[str, Any]:
        """One button as `/api/status` shows it."""
        return {
            "name": state.spec.name,
            "address": state.spec.address,
            "configured": state.spec.configured,
            "connected": state.connected,
            "battery": state.battery,
            "last_click": None
            if state.last_click_at is None or state.last_click_type is None
            else {
                "at": iso_utc(state.last_click_at),
                "click_type": state.last_click_type.value,
                "source": state.last_source,
            },
        }
