"""The simulated Flic 2 against an independent client: the vendor's own pyflic-ble 0.2.5.

pyflic-ble is written by the button's maker, from the same spec as real buttons; if it pairs
with, quick-verifies against and reads presses from our simulator, the simulator speaks the
protocol as real buttons do, not merely as our bridge expects. It runs here over an in-memory
BLE client (no radio, tests/flic2/vendor.py).

Where pyflic-ble itself departs from the vendor's C module (flic2lib-c-module), the tests below
say so and pin the simulator's side; the bridge's behaviour on those points is tested against
the C module's documented behaviour in test_session_sim.py instead:
- it never sends AckButtonEventsInd, so a button keeps every press queued forever;
- it never answers the button's PingRequest (the C module answers with PingResponse);
- it always asks for events after count 0 and boot id 0, so every reconnect replays presses.
"""

from __future__ import annotations

import asyncio

import pytest
from pyflic_ble.handlers.flic2 import Flic2ProtocolHandler

from tests.flic2.sim_button import SimButton
from tests.flic2.vendor import VendorClient, vendor_client_for


@pytest.fixture
def vendor_client(
    monkeypatch: pytest.MonkeyPatch, button: SimButton, verify_key: bytes
) -> VendorClient:
    """A pyflic-ble FlicClient whose BLE link is an in-memory client to the simulated button."""
    return vendor_client_for(monkeypatch, button, verify_key, Flic2ProtocolHandler)


async def pair_with_vendor_client(make: VendorClient, button: SimButton) -> tuple[int, bytes]:
    button.hold_for_pairing()
    client = make()
    await client.connect()
    (
        pairing_id,
        pairing_key,
        serial,
        battery,
        _bits,
        _uuid,
        firmware,
    ) = await client.full_verify_pairing()
    await client.disconnect()
    assert (serial, battery, firmware) == ("SIM-000001", 850, 11)
    return pairing_id, pairing_key


async def test_vendor_client_pairs_with_the_simulator_using_its_own_flags_byte(
    vendor_client: VendorClient, button: SimButton
) -> None:
    pairing_id, pairing_key = await pair_with_vendor_client(vendor_client, button)
    # pyflic-ble sends 0x80 ("supports Duo") and mixes it into the secret; the button stored
    # exactly the pairing the client derived, so both sides used the received byte.
    assert button.flags_seen == [0x80]
    assert button.pairings == {pairing_id: pairing_key}
    assert not button.public_mode


async def test_vendor_client_quick_verifies_reads_the_button_and_renames_it(
    vendor_client: VendorClient, button: SimButton
) -> None:
    pairing_id, pairing_key = await pair_with_vendor_client(vendor_client, button)
    client = vendor_client(pairing_id=pairing_id, pairing_key=pairing_key)
    await client.start()
    assert button.flags_seen == [0x80, 0x40]  # quick verify mixes its own flags byte in
    assert client.state.connected
    assert client.state.battery_voltage == pytest.approx(850 * 3.6 / 1024)
    assert client.state.firmware_version == 11
    assert client.state.device_name == "front-desk"
    name, _stamp = await client.set_name("reception")
    assert name == "reception"
    assert button.name == "reception"
    assert (await client.get_name())[0] == "reception"
    await client.stop()


async def test_vendor_client_receives_single_double_and_hold_from_the_simulator(
    vendor_client: VendorClient, button: SimButton
) -> None:
    pairing_id, pairing_key = await pair_with_vendor_client(vendor_client, button)
    client = vendor_client(pairing_id=pairing_id, pairing_key=pairing_key)
    seen: list[str] = []
    client.register_button_event_callback(lambda kind, _data: seen.append(kind))
    await client.start()
    button.press("single")
    button.press("double")
    button.press("hold")
    # pyflic-ble's names: code 2 is "click" (single), 11 "double_click", 3 "hold", 14 "up".
    assert seen == [
        *("down", "up", "click"),
        *("down", "up", "down", "double_click"),
        *("down", "hold", "up"),
    ]
    await client.stop()


async def test_where_the_vendor_client_departs_from_the_vendor_module(
    vendor_client: VendorClient, button: SimButton
) -> None:
    """pyflic-ble's known gaps, pinned so the simulator's side of each stays checked."""
    pairing_id, pairing_key = await pair_with_vendor_client(vendor_client, button)
    client = vendor_client(pairing_id=pairing_id, pairing_key=pairing_key)
    seen: list[str] = []
    client.register_button_event_callback(lambda kind, _data: seen.append(kind))
    await client.start()
    button.press("single")
    button.ping()
    await asyncio.sleep(0)
    await client.stop()
    # No acknowledgement and no ping answer ever left pyflic-ble (the C module sends both).
    assert button.acks == []
    assert button.pings_answered == 0
    assert len(button.unacked) == 3
    # It asks for events after count 0 of boot 0: the button, seeing an unknown boot id,
    # answers with its boot id and offers the unacknowledged single again on the next connect.
    seen.clear()
    again = vendor_client(pairing_id=pairing_id, pairing_key=pairing_key)
    again.register_button_event_callback(lambda kind, _data: seen.append(kind))
    await again.start()
    assert seen == ["down", "up", "click"]
    assert button.init_requests[-1] == (0, 0)
    await again.stop()
