"""Flic 2, Duo and Twist buttons over Bluetooth LE (bleak on BlueZ, no flicd): one source per
paired button. Pairing lives in pair.py, the stored pairings in store.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.config import Config
from bridge.errors import SourceError
from bridge.flic2 import (
    VENDOR_PUBLIC_KEY,
    Battery,
    Flic2Error,
    Pairing,
    Press,
    SessionEvent,
    Verified,
)
from bridge.flic2 import twist as twist_protocol
from bridge.flic2.handshake import State
from bridge.models import ButtonSeen, ClickType, RawClick, SourceEvent
from bridge.sources.ble.bleak import BleakTransport
from bridge.sources.ble.link import SessionLink, new_session
from bridge.sources.ble.pair import VERIFY_TIMEOUT_S, pair_ble, pair_one
from bridge.sources.ble.store import PairingStore
from bridge.sources.ble.transport import BleUnavailable, TransportFactory

# Re-exported: the CLI and the tests import these from here.
__all__ = [
    "BleSource",
    "BleUnavailable",
    "PairingStore",
    "ble_sources",
    "ble_sources_for",
    "pair_ble",
    "pair_one",
]

log = logging.getLogger(__name__)

SOURCE_NAME = "ble"
BATTERY_INTERVAL_S = 3 * 3600.0  # the vendor's module reads the battery every 3 hours
# Every click type but the other views of a press (click, down, up): Duo and Twist gestures too.
DEFAULT_CLICK_TYPES = frozenset(ClickType) - {ClickType.CLICK, ClickType.DOWN, ClickType.UP}


def battery_percent(millivolt: int, *, twist: bool = False) -> int:
    """A CR2032 estimate: 3.0 V and above is full, 2.5 V is empty, linear between (a Twist's
    two AAA cells: see flic2.twist)."""
    if twist:
        return twist_protocol.battery_percent(millivolt)
    return max(0, min(100, round((millivolt - 2500) / 5)))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BleSource:
    """Clicks from one paired Flic 2, Duo or Twist. Raises SourceError when the link ends."""

    name = SOURCE_NAME

    def __init__(
        self,
        address: str,
        state_dir: Path,
        transport_factory: TransportFactory,
        *,
        click_types: frozenset[ClickType] = DEFAULT_CLICK_TYPES,
        verify_key: bytes = VENDOR_PUBLIC_KEY,
        twist_verify_key: bytes = twist_protocol.VENDOR_PUBLIC_KEY,
        random: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], datetime] = _utc_now,
        verify_timeout_s: float = VERIFY_TIMEOUT_S,
        battery_interval_s: float = BATTERY_INTERVAL_S,
    ) -> None:
        self.address = address.lower()
        self._battery_interval_s = battery_interval_s
        self._store = PairingStore(state_dir)
        self._factory = transport_factory
        self._click_types = click_types
        self._verify_key = verify_key
        self._twist_verify_key = twist_verify_key
        self._random = random
        self._clock = clock
        self._timeout_s = verify_timeout_s

    async def events(self) -> AsyncIterator[SourceEvent]:
        """Connect, quick-verify, then yield clicks and button news until the link ends."""
        pairing = self._store.load(self.address)
        if pairing is None:
            raise SourceError(f"{self.address} is not paired: run flic-bridge pair --ble")
        connected = False
        try:
            async for event in self._session(pairing):
                if isinstance(event, ButtonSeen) and event.connected:
                    connected = True
                yield event
        except SourceError:
            if connected:
                yield ButtonSeen(self.address, SOURCE_NAME, self._clock(), connected=False)
            raise

    async def _session(self, pairing: Pairing) -> AsyncIterator[SourceEvent]:
        transport = self._factory()
        await transport.connect(self.address)
        link: SessionLink | None = None
        try:
            session = new_session(
                self.address,
                pairing,
                transport,
                verify_key=self._verify_key,
                twist_verify_key=self._twist_verify_key,
                random=self._random,
            )
            link = SessionLink(transport, session, self._timeout_s)
            session.start()
            await link.flush()
            saved = pairing
            loop = asyncio.get_running_loop()
            # Every 3 hours whatever the traffic (pings and presses must not postpone it).
            battery_due = loop.time() + self._battery_interval_s
            while (frame := await link.next_frame(max(0.0, battery_due - loop.time()))) is not None:
                if loop.time() >= battery_due and session.state is State.READY:
                    session.request_battery()
                    battery_due = loop.time() + self._battery_interval_s
                    await link.flush()
                if not frame:
                    continue
                now = self._clock()
                try:
                    events = session.receive(frame, now)
                except Flic2Error as exc:
                    raise SourceError(f"Flic 2 {self.address}: {exc}") from exc
                for event in events:
                    translated = self._translate(event, now, session.pairing or pairing)
                    if translated is not None:
                        yield translated
                # The consumer has taken every press of this frame: record, then acknowledge.
                if session.pairing is not None and session.pairing != saved:
                    self._store.save(session.pairing)
                    saved = session.pairing
                await link.flush()
            raise SourceError(f"lost the Bluetooth link to {self.address}")
        finally:
            if link is not None:
                link.close()
            with contextlib.suppress(Exception):
                await transport.disconnect()

    def _translate(
        self, event: SessionEvent, now: datetime, pairing: Pairing
    ) -> SourceEvent | None:
        if isinstance(event, Verified):
            log.info("Flic 2 %s verified", self.address)
            return ButtonSeen(self.address, SOURCE_NAME, now, connected=True)
        if isinstance(event, Battery):
            percent = battery_percent(event.millivolt, twist=pairing.twist)
            return ButtonSeen(self.address, SOURCE_NAME, now, battery=percent)
        if isinstance(event, Press) and event.click_type in self._click_types:
            return RawClick(
                address=self.address,
                click_type=event.click_type,
                source=SOURCE_NAME,
                pressed_at=event.pressed_at,
                queued=event.queued,
                queued_s=event.age_s,
                event_id=press_event_id(self.address, pairing.boot_id, event),
                name_hint=pairing.name or None,
                button_number=event.button_number,
                position=event.position,
            )
        return None


def press_event_id(address: str, boot_id: int, press: Press) -> str | None:
    """The same press always gets the same id, so a replay after a crash is stored once.

    The button numbers its events per boot; a press it sends again after a reconnect (because
    the bridge died before acknowledging it) carries the same count and so the same id, and
    the outbox, idempotent on event ids, keeps the first copy only.
    """
    if press.event_count < 0:
        return None  # a push-twist: not counted, never replayed; the runtime mints an id
    which = "" if press.button_number is None else f"b{press.button_number}-"
    stem = f"ble-{address.replace(':', '')}-{boot_id:x}-{which}"
    # A Twist numbers notifications, not items: the item's place in it tells its presses apart.
    item = "" if press.item is None else f"{press.item}-"
    return f"{stem}{press.event_count}-{item}{press.click_type}"


def ble_sources(
    state_dir: Path, transport_factory: TransportFactory, **options: Any
) -> list[BleSource]:
    """One source per stored pairing (each is supervised and reconnected on its own)."""
    return [
        BleSource(address, state_dir, transport_factory, **options)
        for address in PairingStore(state_dir).addresses()
    ]


def ble_sources_for(
    config: Config,
    *,
    clock: Callable[[], datetime] = _utc_now,
    transport_factory: TransportFactory | None = None,
) -> list[BleSource]:
    """The runtime's BLE sources: every paired button, with the click types its mapping uses."""
    adapter = config.ble.adapter
    factory = transport_factory or (lambda: BleakTransport(adapter))
    mapped = {spec.address: spec.click_types for spec in config.buttons}
    state_dir = config.bridge.state_dir
    sources = [
        BleSource(
            address,
            state_dir,
            factory,
            click_types=DEFAULT_CLICK_TYPES | mapped.get(address, frozenset()),
            clock=clock,
        )
        for address in PairingStore(state_dir).addresses()
    ]
    if not sources:
        log.warning("[ble] is enabled but no Flic 2 is paired: run flic-bridge pair --ble")
    return sources
