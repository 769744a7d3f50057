"""Flic 2 buttons over Bluetooth LE (bleak on BlueZ, no flicd): one source per paired button."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
    Flic2Session,
    NotPairableError,
    Paired,
    Pairing,
    Press,
    QueueDrained,
    SessionEvent,
    Verified,
)
from bridge.flic2.handshake import State
from bridge.models import ButtonSeen, ClickType, RawClick, SourceEvent
from bridge.sources.ble.bleak import BleakTransport, scan_flic2
from bridge.sources.ble.transport import (
    BleTransport,
    BleUnavailable,
    ButtonNotAdvertising,
    Scanner,
    TransportFactory,
)

log = logging.getLogger(__name__)

SOURCE_NAME = "ble"
VERIFY_TIMEOUT_S = 31.0  # the vendor's module gives a verify 31 s
BATTERY_INTERVAL_S = 3 * 3600.0  # and reads the battery every 3 hours
# Every click type but the other views of a press (click, down, up): a Duo's swipes and twists too.
DEFAULT_CLICK_TYPES = frozenset(ClickType) - {ClickType.CLICK, ClickType.DOWN, ClickType.UP}


def battery_percent(millivolt: int) -> int:
    """A CR2032 estimate: 3.0 V and above is full, 2.5 V is empty, linear between."""
    return max(0, min(100, round((millivolt - 2500) / 5)))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PairingStore:
    """Pairings as one JSON file per button under `<state_dir>/flic2/`, mode 0600."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "flic2"

    def _path(self, address: str) -> Path:
        return self.directory / (address.lower().replace(":", "") + ".json")

    def load(self, address: str) -> Pairing | None:
        """The stored pairing of one button, or None."""
        try:
            data = json.loads(self._path(address).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read the pairing of {address}: {exc}") from exc
        try:
            return Pairing.from_json(data)
        except Flic2Error as exc:
            raise SourceError(f"{address}: {exc}; pair it again (flic-bridge pair --ble)") from exc

    def addresses(self) -> list[str]:
        """Addresses of every stored pairing."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(str(json.loads(path.read_text())["address"]).lower())
        return found

    def save(self, pairing: Pairing) -> None:
        """Write atomically; only the bridge's user may read the keys."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(pairing.address)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(pairing.to_json(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


class _Link:
    """A session running over a connected transport."""

    def __init__(self, transport: BleTransport, session: Flic2Session, timeout_s: float) -> None:
        self.transport = transport
        self.session = session
        self._frames = transport.notifications()
        self._timeout_s = timeout_s
        self._next: asyncio.Future[bytes] | None = None

    async def flush(self) -> None:
        try:
            for frame in self.session.take_writes():
                await self.transport.write(frame)
        except SourceError as exc:
            raise SourceError(f"lost the Bluetooth link to {self.session.address}: {exc}") from exc

    async def next_frame(self, idle_s: float | None = None) -> bytes | None:
        """The next frame; None when the link is gone; b"" after `idle_s` without one."""
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._frames))
        ready = self.session.state is State.READY
        done, _ = await asyncio.wait({self._next}, timeout=idle_s if ready else self._timeout_s)
        if not done:
            if ready:
                return b""
            raise SourceError(f"{self.session.address} did not complete verify in time")
        finished, self._next = self._next, None
        try:
            return finished.result()
        except StopAsyncIteration:
            return None

    def close(self) -> None:
        if self._next is not None:
            self._next.cancel()


class BleSource:
    """Clicks from one paired Flic 2 button. Raises SourceError when the link ends."""

    name = SOURCE_NAME

    def __init__(
        self,
        address: str,
        state_dir: Path,
        transport_factory: TransportFactory,
        *,
        click_types: frozenset[ClickType] = DEFAULT_CLICK_TYPES,
        verify_key: bytes = VENDOR_PUBLIC_KEY,
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
        link: _Link | None = None
        try:
            session = Flic2Session(
                self.address,
                pairing,
                verify_key=self._verify_key,
                random=self._random,
                att_mtu=transport.att_mtu,
            )
            link = _Link(transport, session, self._timeout_s)
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
            percent = battery_percent(event.millivolt)
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
    return f"{stem}{press.event_count}-{press.click_type}"


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


async def pair_one(
    address: str,
    transport: BleTransport,
    *,
    verify_key: bytes = VENDOR_PUBLIC_KEY,
    random: Callable[[int], bytes] = os.urandom,
    clock: Callable[[], datetime] = _utc_now,
    timeout_s: float = VERIFY_TIMEOUT_S,
) -> Pairing:
    """Full verify with one button in pairing mode; the pairing comes back with its counters."""
    await transport.connect(address)
    try:
        session = Flic2Session(
            address, None, verify_key=verify_key, random=random, att_mtu=transport.att_mtu
        )
        link = _Link(transport, session, timeout_s)
        session.start()
        await link.flush()
        return await _pair_until_ready(link, clock)
    finally:
        with contextlib.suppress(Exception):
            await transport.disconnect()


async def _pair_until_ready(link: _Link, clock: Callable[[], datetime]) -> Pairing:
    session = link.session
    paired: Pairing | None = None
    try:
        while (frame := await link.next_frame()) is not None:
            events = session.receive(frame, clock())
            await link.flush()
            paired = next((e.pairing for e in events if isinstance(e, Paired)), paired)
            if paired is not None and any(isinstance(e, QueueDrained) for e in events):
                assert session.pairing is not None
                return session.pairing  # with the boot id and event count from init
        raise SourceError(f"{session.address} dropped the link while pairing")
    finally:
        link.close()


async def pair_ble(
    state_dir: Path,
    *,
    out: Callable[[str], None],
    adapter: str = "hci0",
    scan_s: float = 30.0,
    transport_factory: TransportFactory | None = None,
    scanner: Scanner | None = None,
    verify_key: bytes = VENDOR_PUBLIC_KEY,
) -> Pairing:
    """Find a Flic 2 in pairing mode, pair it and store the pairing (`flic-bridge pair --ble`)."""
    factory = transport_factory or (lambda: BleakTransport(adapter))
    scan = scanner or (lambda seconds: scan_flic2(adapter, seconds))
    out("Hold the Flic 2 button down for 7 seconds, until it blinks, then let go.")
    out(f"Scanning for Flic 2 buttons for up to {scan_s:.0f} s (adapter {adapter})...")
    addresses = await scan(scan_s)
    if not addresses:
        raise SourceError("no Flic 2 button found: hold it for 7 s, keep it close, try again")
    for address in addresses:
        out(f"Trying {address}...")
        try:
            pairing = await pair_one(address, factory(), verify_key=verify_key)
        except NotPairableError:
            out(f"{address} is not in pairing mode; skipped")
            continue
        except ButtonNotAdvertising as exc:
            out(f"{exc}; skipped")
            continue
        except (Flic2Error, SourceError) as exc:
            if isinstance(exc, BleUnavailable):
                raise
            out(f"{address}: {exc}")
            continue
        PairingStore(state_dir).save(pairing)
        label = f" ({pairing.name})" if pairing.name else ""
        out(f"Paired {pairing.address}{label}. Restart flic-bridge to receive its clicks.")
        if pairing.duo:
            out("A Flic Duo: clicks say button_number 0 (big) or 1 (small); swipes and twists too.")
        return pairing
    raise SourceError("no Flic 2 button in pairing mode could be paired: hold it 7 s and retry")
