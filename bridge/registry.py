"""What the bridge knows about each button: its mapping, connection, battery, last click."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bridge.clicks import iso_utc
from bridge.config import ButtonSpec, default_button
from bridge.models import ButtonSeen, ClickType


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

    def __init__(self, buttons: tuple[ButtonSpec, ...]) -> None:
        self._by_address: dict[str, ButtonState] = {b.address: ButtonState(b) for b in buttons}

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
            state = ButtonState(default_button(address, self._free_name(name_hint, address)))
            self._by_address[address] = state
        return state.spec

    def _free_name(self, hint: str | None, address: str) -> str:
        if hint and not any(s.spec.name == hint for s in self._by_address.values()):
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
        state = self._by_address[address]
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
