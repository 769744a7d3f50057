"""Pairing over BLE (`flic-bridge pair --ble`): find a Flic 2, Duo or Twist in pairing mode."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bridge.errors import SourceError
from bridge.flic2 import (
    VENDOR_PUBLIC_KEY,
    Flic2Error,
    NotPairableError,
    Paired,
    Pairing,
    QueueDrained,
)
from bridge.flic2 import twist as twist_protocol
from bridge.sources.ble.bleak import BleakTransport, scan_flic2
from bridge.sources.ble.link import SessionLink, new_session
from bridge.sources.ble.store import PairingStore
from bridge.sources.ble.transport import (
    BleTransport,
    BleUnavailable,
    ButtonNotAdvertising,
    Scanner,
    TransportFactory,
)

VERIFY_TIMEOUT_S = 31.0  # the vendor's module gives a verify 31 s


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def pair_one(
    address: str,
    transport: BleTransport,
    *,
    verify_key: bytes = VENDOR_PUBLIC_KEY,
    twist_verify_key: bytes = twist_protocol.VENDOR_PUBLIC_KEY,
    random: Callable[[int], bytes] = os.urandom,
    clock: Callable[[], datetime] = _utc_now,
    timeout_s: float = VERIFY_TIMEOUT_S,
) -> Pairing:
    """Full verify with one button in pairing mode; the pairing comes back with its counters."""
    await transport.connect(address)
    try:
        session = new_session(
            address,
            None,
            transport,
            verify_key=verify_key,
            twist_verify_key=twist_verify_key,
            random=random,
        )
        link = SessionLink(transport, session, timeout_s)
        session.start()
        await link.flush()
        return await _pair_until_ready(link, clock)
    finally:
        with contextlib.suppress(Exception):
            await transport.disconnect()


async def _pair_until_ready(link: SessionLink, clock: Callable[[], datetime]) -> Pairing:
    session = link.session
    paired: Pairing | None = None
    try:
        while (frame := await link.next_frame()) is not None:
            events = session.receive(frame, clock())
            await link.flush()
            paired = next((e.pairing for e in events if isinstance(e, Paired)), paired)
            if paired is not None and paired.twist:
                return paired  # the Twist's events start on the next connection (quick verify)
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
    twist_verify_key: bytes = twist_protocol.VENDOR_PUBLIC_KEY,
) -> Pairing:
    """Find a button in pairing mode, pair it and store the pairing (`flic-bridge pair --ble`)."""
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
            pairing = await pair_one(
                address, factory(), verify_key=verify_key, twist_verify_key=twist_verify_key
            )
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
        if pairing.twist:
            out("A Flic Twist: twist_left/right, push_twist_left/right, selector_changed too.")
        return pairing
    raise SourceError("no Flic 2 button in pairing mode could be paired: hold it 7 s and retry")
