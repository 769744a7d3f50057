"""Clicks from the vendor's flicd daemon through pyflic.

pyflic's asyncio client cannot be used as shipped (missing imports, a crash when a read ends
after the first length byte), so the threaded client runs on its own thread and every callback
hops to the event loop with `call_soon_threadsafe`. flicd reports each press in four event
classes; per button we listen only to the classes its configured click types need, so one
physical press gives exactly one click.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyflic

from bridge.clicks import heard_click_types
from bridge.config import ButtonSpec, Config, default_button
from bridge.errors import SourceError
from bridge.models import ButtonSeen, ClickType, RawClick, SourceEvent, SourceState

log = logging.getLogger(__name__)

UP_OR_DOWN = "up_or_down"
CLICK_OR_HOLD = "click_or_hold"
SINGLE_OR_DOUBLE = "single_or_double"
SINGLE_OR_DOUBLE_OR_HOLD = "single_or_double_or_hold"

# pyflic's ClickType values, as flicd numbers them on the wire.
_WIRE_TYPES = {
    0: ClickType.DOWN,
    1: ClickType.UP,
    2: ClickType.CLICK,
    3: ClickType.SINGLE,
    4: ClickType.DOUBLE,
    5: ClickType.HOLD,
}
_CALLBACKS = {
    UP_OR_DOWN: "on_button_up_or_down",
    CLICK_OR_HOLD: "on_button_click_or_hold",
    SINGLE_OR_DOUBLE: "on_button_single_or_double_click",
    SINGLE_OR_DOUBLE_OR_HOLD: "on_button_single_or_double_click_or_hold",
}
CONNECT_TIMEOUT_S = 10.0


def listen_plan(types: frozenset[ClickType]) -> dict[str, frozenset[ClickType]]:
    """For each event class to listen to, the click types taken from it.

    Every wanted type comes from exactly one class: single/double/hold from the
    single-double-hold class when single or double is wanted (no double-click wait is
    needed otherwise), click (and hold) from click-or-hold, down/up from up-or-down.
    """
    plan: dict[str, frozenset[ClickType]] = {}
    updown = types & {ClickType.DOWN, ClickType.UP}
    if updown:
        plan[UP_OR_DOWN] = frozenset(updown)
    if types & {ClickType.SINGLE, ClickType.DOUBLE}:
        plan[SINGLE_OR_DOUBLE_OR_HOLD] = frozenset(
            types & {ClickType.SINGLE, ClickType.DOUBLE, ClickType.HOLD}
        )
        if ClickType.CLICK in types:
            plan[CLICK_OR_HOLD] = frozenset({ClickType.CLICK})
    elif types & {ClickType.CLICK, ClickType.HOLD}:
        plan[CLICK_OR_HOLD] = frozenset(types & {ClickType.CLICK, ClickType.HOLD})
    return plan


def mapped_click_types(spec: ButtonSpec) -> frozenset[ClickType]:
    return spec.click_types


class GuardedFlicClient(pyflic.FlicClient):  # type: ignore[misc]
    """pyflic's threaded client, kept alive through events it cannot dispatch.

    An event naming a conn_id the client does not know raises KeyError inside pyflic, a
    packet shorter than expected raises struct.error, an enum value from a newer flicd raises
    ValueError; any of them would end `handle_events`. They are logged and skipped instead.
    """

    def _dispatch_event(self, data: bytearray) -> None:
        try:
            super()._dispatch_event(data)
        except (KeyError, ValueError, IndexError, struct.error) as exc:
            opcode = data[0] if data else -1
            log.debug("flicd: skipped event opcode %s: %r", opcode, exc)

    def shutdown(self) -> None:
        """Unblock `handle_events` from another thread, whatever state flicd is in."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True, slots=True)
class _Ended:
    reason: str


class _Session:
    """One TCP session with flicd: its channels, listeners and the client thread."""

    def __init__(
        self,
        client: GuardedFlicClient,
        buttons: Sequence[ButtonSpec],
        post: Callable[[SourceEvent | _Ended], None],
        clock: Callable[[], datetime],
        source: str,
        heard: Callable[[ButtonSpec], frozenset[ClickType]] = mapped_click_types,
    ) -> None:
        self.client = client
        self._heard = heard
        self._post = post
        self._clock = clock
        self._source = source
        self._buttons = {b.address: b for b in buttons}
        self._watched: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        for button in self._buttons.values():
            self.watch(button.address)
        self.client.on_new_verified_button = self._new_verified
        self.client.on_bluetooth_controller_state_change = self._controller
        self.client.get_info(self._info)

    def _info(self, info: dict[str, Any]) -> None:
        for address in info.get("bd_addr_of_verified_buttons", []):
            self.watch(address)
        self._controller(info.get("bluetooth_controller_state"))

    def _controller(self, state: Any) -> None:
        """flicd is reachable; without its Bluetooth adapter no button can reach it, though."""
        if state is None or state == pyflic.BluetoothControllerState.Attached:
            self._post(SourceState(self._source, "up", self._clock()))
        else:
            log.warning("flicd: Bluetooth controller %s", state.name)
            detail = f"flicd's Bluetooth controller is {state.name.lower()}"
            self._post(SourceState(self._source, "no-bluetooth", self._clock(), detail))

    def _new_verified(self, address: str) -> None:
        log.info("flicd: newly verified button %s", address)
        self.watch(address)

    def watch(self, address: str) -> None:
        """Create the connection channel and battery listener of one button (once per session)."""
        with self._lock:
            if address in self._watched:
                return
            self._watched.add(address)
        spec = self._buttons.get(address) or default_button(address)
        channel = pyflic.ButtonConnectionChannel(address)
        channel.on_create_connection_channel_response = self._created
        channel.on_connection_status_changed = self._status
        channel.on_removed = self._removed
        for event_class, types in listen_plan(self._heard(spec)).items():
            setattr(channel, _CALLBACKS[event_class], self._click_handler(types))
        self.client.add_connection_channel(channel)
        listener = pyflic.BatteryStatusListener(address)
        listener.on_battery_status = self._battery
        self.client.add_battery_status_listener(listener)

    def _click_handler(self, wanted: frozenset[ClickType]) -> Callable[..., None]:
        def on_click(channel: Any, click_type: Any, was_queued: bool, time_diff: int) -> None:
            kind = _WIRE_TYPES.get(int(click_type.value))
            if kind is None or kind not in wanted:
                return
            now = self._clock()
            age_s = float(time_diff) if was_queued else 0.0
            self._post(
                RawClick(
                    address=str(channel.bd_addr),
                    click_type=kind,
                    source=self._source,
                    pressed_at=now - timedelta(seconds=age_s),
                    queued=bool(was_queued),
                    queued_s=age_s,
                )
            )

        return on_click

    def _seen(
        self, address: str, connected: bool | None = None, battery: int | None = None
    ) -> None:
        self._post(ButtonSeen(address, self._source, self._clock(), connected, battery))

    def _created(self, channel: Any, error: Any, status: Any) -> None:
        if error != pyflic.CreateConnectionChannelError.NoError:
            log.warning("flicd: cannot watch %s: %s", channel.bd_addr, error.name)
            with self._lock:
                self._watched.discard(channel.bd_addr)
            return
        self._status(channel, status, None)

    def _status(self, channel: Any, status: Any, reason: Any) -> None:
        if status == pyflic.ConnectionStatus.Ready:
            self._seen(channel.bd_addr, connected=True)
        elif status == pyflic.ConnectionStatus.Disconnected:
            self._seen(channel.bd_addr, connected=False)

    def _removed(self, channel: Any, reason: Any) -> None:
        log.warning("flicd: channel for %s removed: %s", channel.bd_addr, reason.name)
        with self._lock:
            self._watched.discard(channel.bd_addr)
        self._seen(channel.bd_addr, connected=False)

    def _battery(self, listener: Any, percentage: int, timestamp: int) -> None:
        if 0 <= percentage <= 100:
            self._seen(listener.bd_addr, battery=int(percentage))

    def run(self) -> None:
        """The client thread: dispatch until the connection ends, then say why."""
        try:
            self.client.handle_events()
            reason = "flicd closed the connection"
        except OSError as exc:
            reason = f"connection to flicd lost: {exc}"
        except Exception as exc:  # anything else would kill the thread silently
            log.exception("flicd: client thread failed")
            reason = f"flicd client failed: {exc!r}"
        self._post(_Ended(reason))


class FlicdSource:
    """A ClickSource for flicd at host:port, watching `buttons` plus every verified button."""

    def __init__(
        self,
        host: str,
        port: int,
        buttons: Sequence[ButtonSpec],
        *,
        clock: Callable[[], datetime],
        name: str = "flicd",
        heard: Callable[[ButtonSpec], frozenset[ClickType]] = mapped_click_types,
    ) -> None:
        """`heard`: the click types to take from a button (default: those its mapping names;
        `bridge.core.pipeline.heard_click_types` when a target such as MQTT takes every click)."""
        self.name = name
        self._heard = heard
        self.host = host
        self.port = port
        self._buttons = tuple(buttons)
        self._clock = clock

    async def events(self) -> AsyncIterator[SourceEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[SourceEvent | _Ended] = asyncio.Queue()

        def post(item: SourceEvent | _Ended) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing: nobody listens
                loop.call_soon_threadsafe(queue.put_nowait, item)

        try:
            client = await asyncio.wait_for(
                asyncio.to_thread(GuardedFlicClient, self.host, self.port), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            raise SourceError(f"cannot reach flicd at {self.host}:{self.port}: {exc}") from exc
        session = _Session(client, self._buttons, post, self._clock, self.name, self._heard)
        thread = threading.Thread(target=session.run, name=f"{self.name}-client", daemon=True)
        try:
            session.start()
            thread.start()
            while True:
                item = await queue.get()
                if isinstance(item, _Ended):
                    raise SourceError(item.reason)
                yield item
        except OSError as exc:
            raise SourceError(f"connection to flicd lost: {exc}") from exc
        finally:
            client.shutdown()
            if thread.is_alive():
                await asyncio.to_thread(thread.join, 5.0)
            else:
                with contextlib.suppress(OSError):
                    client._sock.close()


def flicd_source_for(config: Config, *, clock: Callable[[], datetime]) -> FlicdSource:
    """The `[flicd]` source; with MQTT on it takes every press (Home Assistant wants holds a
    webhook mapping leaves out), otherwise only the click types the mappings name."""
    heard = heard_click_types if config.mqtt.enabled else mapped_click_types
    f = config.flicd
    return FlicdSource(f.host, f.port, config.buttons, clock=clock, heard=heard)
