"""The BLE source's link policy: battery every 3 hours, reconnect on advertisement, and a
button that is not advertising is one button away, not "Bluetooth unavailable"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
    BleakError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge.models import ButtonSeen, ClickType
from bridge.sources.ble.bleak import _unavailable
from bridge.sources.ble.source import BleSource, BleUnavailable, PairingStore, pair_ble
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_duo import SimDuo
from tests.flic2.sim_transport import SimRadio
from tests.flic2.test_ble_source import Run, paired, source

OTHER = "80:e4:da:71:99:99"


async def test_battery_is_read_every_interval_even_while_the_button_keeps_talking(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    ble = BleSource(
        ADDRESS, tmp_path, radio.transport, verify_key=verify_key, battery_interval_s=0.05
    )
    run = Run(ble)
    await run.until(lambda: bool(run.events), "connected")
    stop = asyncio.Event()

    async def chatter() -> None:  # a ping every millisecond: the link is never idle
        while not stop.is_set():
            button.ping()
            await asyncio.sleep(0.001)

    talker = asyncio.create_task(chatter())
    button.battery_level = 800
    levels = lambda: [e.battery for e in run.events if isinstance(e, ButtonSeen) and e.battery]  # noqa: E731
    await run.until(lambda: 63 in levels(), "a battery reading despite the traffic")
    stop.set()
    await talker
    assert button.pings_answered > 0
    await run.stop()


async def test_a_button_back_in_range_is_connected_the_moment_it_advertises(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    radio.drop(ADDRESS)
    radio.advert_wait_s = 3600.0  # no retry timer could bring it back within the test
    button.press("hold")
    run = Run(source(tmp_path, radio, verify_key))
    await run.until(lambda: len(radio.links) == 2, "a connect attempt")
    await asyncio.sleep(0)
    assert run.events == []  # waiting for the advertisement, not failing
    assert not run.task.done()
    radio.restore(ADDRESS)
    await run.until(lambda: bool(run.clicks), "the queued hold")
    assert [(c.click_type, c.queued) for c in run.clicks] == [(ClickType.HOLD, True)]
    assert len(radio.links) == 2  # the pairing's link and this one: no second attempt
    await run.stop()


async def test_a_button_not_advertising_does_not_stop_pairing_the_next(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes
) -> None:
    gone, here = SimButton(OTHER, factory_key), SimButton(ADDRESS, factory_key, name="desk")
    radio = SimRadio(gone, here)
    here.hold_for_pairing()
    radio.drop(OTHER)  # seen in the scan, gone by the time we connect

    async def scan(_seconds: float) -> list[str]:
        return [OTHER, ADDRESS]

    said: list[str] = []
    pairing = await pair_ble(
        tmp_path,
        out=said.append,
        transport_factory=radio.transport,
        scanner=scan,
        verify_key=verify_key,
    )
    assert pairing.address == ADDRESS
    assert PairingStore(tmp_path).addresses() == [ADDRESS]
    assert f"{OTHER} is not advertising; skipped" in said
    assert not any("BlueZ" in line for line in said)


async def test_a_button_refusing_our_credentials_is_reported_and_not_stored(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    button.credentials_flags = 0b10
    button.hold_for_pairing()
    said: list[str] = []
    with pytest.raises(Exception, match="could be paired"):
        await pair_ble(
            tmp_path,
            out=said.append,
            transport_factory=radio.transport,
            scanner=radio.scan,
            verify_key=verify_key,
        )
    assert any("locked to another app" in line for line in said)
    assert PairingStore(tmp_path).addresses() == []


def test_only_a_missing_bluetooth_stack_is_called_unavailable() -> None:
    not_found = BleakDeviceNotFoundError(ADDRESS, f"Device with address {ADDRESS} was not found")
    assert _unavailable(not_found, "hci0") is None
    assert _unavailable(BleakError(f"Device with address {ADDRESS} was not found."), "hci0") is None
    off = BleakBluetoothNotAvailableError(
        "Bluetooth is powered off", BleakBluetoothNotAvailableReason.POWERED_OFF
    )
    unavailable = _unavailable(off, "hci0")
    assert isinstance(unavailable, BleUnavailable)
    assert "powered off" in str(unavailable)
    assert isinstance(_unavailable(BleakError("adapter 'hci9' not found"), "hci9"), BleUnavailable)
    assert isinstance(_unavailable(FileNotFoundError("/run/dbus"), "hci0"), BleUnavailable)


async def test_a_flic_duo_pairs_and_both_buttons_swipes_and_twists_arrive(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes
) -> None:
    duo = SimDuo(ADDRESS, factory_key, name="duo")
    radio = SimRadio(duo)
    duo.hold_for_pairing()
    said: list[str] = []
    pairing = await pair_ble(
        tmp_path,
        out=said.append,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )
    assert (pairing.serial_number, pairing.duo) == ("DSIM-00001", True)
    assert any("Flic Duo" in line and "button_number" in line for line in said)
    duo.press("single", small=True)  # while the bridge is away: queued in the Duo
    run = Run(source(tmp_path, radio, verify_key))
    # Push-twist is enabled again once the queue is drained, on the bridge's own connection.
    await run.until(lambda: duo.received_opcodes.count(37) == 2, "push-twist enabled")
    duo.press("double")
    duo.press("swipe_up", small=True)
    duo.press("hold")
    duo.twist(4096 * 2 + 100)  # two detents clockwise, holding the big button
    duo.twist(-4096, small=True)
    await run.until(lambda: len(run.clicks) >= 7, "seven clicks")
    assert [(c.click_type, c.button_number) for c in run.clicks] == [
        (ClickType.SINGLE, 1),
        (ClickType.DOUBLE, 0),
        (ClickType.SWIPE_UP, 1),
        (ClickType.HOLD, 0),
        (ClickType.PUSH_TWIST_RIGHT, 0),
        (ClickType.PUSH_TWIST_RIGHT, 0),
        (ClickType.PUSH_TWIST_LEFT, 1),
    ]
    assert [c.queued for c in run.clicks[:2]] == [True, False]
    # Acknowledged with both counts after each single/double/hold/swipe, so nothing is resent.
    assert duo.duo_acks
    assert not duo.duo_unacked
    ids = [c.event_id for c in run.clicks[:4]]
    assert len(set(ids)) == 4
    assert all(i and "-b" in i for i in ids)
    await run.stop()
