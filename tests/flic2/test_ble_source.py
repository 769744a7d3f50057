"""The BLE source and pairing command over the transport seam, against simulated buttons."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge.errors import SourceError
from bridge.flic2 import Pairing
from bridge.models import ButtonSeen, ClickType, RawClick, SourceEvent
from bridge.sources.ble.bleak import BleakTransport
from bridge.sources.ble.source import (
    BleSource,
    BleUnavailable,
    PairingStore,
    ble_sources,
    pair_ble,
)
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Run:
    """One supervised attempt of a source: collects what it yields and how it ended."""

    def __init__(self, source: BleSource) -> None:
        self.events: list[SourceEvent] = []
        self.error: SourceError | None = None
        self.task = asyncio.create_task(self._run(source))

    async def _run(self, source: BleSource) -> None:
        try:
            async for event in source.events():
                self.events.append(event)
        except SourceError as exc:
            self.error = exc

    @property
    def clicks(self) -> list[RawClick]:
        return [e for e in self.events if isinstance(e, RawClick)]

    async def until(self, ready: Callable[[], bool], what: str) -> None:
        async with asyncio.timeout(5):
            while not ready():
                if self.task.done() and not ready():
                    raise AssertionError(f"source ended before {what}: {self.error}")
                await asyncio.sleep(0.002)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def paired(tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes) -> None:
    button.hold_for_pairing()
    await pair_ble(
        tmp_path,
        out=lambda _: None,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )


def source(tmp_path: Path, radio: SimRadio, verify_key: bytes) -> BleSource:
    return BleSource(ADDRESS, tmp_path, radio.transport, verify_key=verify_key, clock=lambda: NOW)


async def test_pair_ble_finds_the_button_in_pairing_mode_and_stores_it_privately(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes, button: SimButton
) -> None:
    other = SimButton("80:e4:da:00:00:02", factory_key, name="not-held")
    radio = SimRadio(other, button)
    button.hold_for_pairing()
    lines: list[str] = []
    pairing = await pair_ble(
        tmp_path,
        out=lines.append,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )
    assert pairing.address == ADDRESS
    assert "Hold the Flic 2 button down for 7 seconds" in lines[0]
    assert any("not in pairing mode" in line for line in lines)
    assert lines[-1].startswith(f"Paired {ADDRESS} (front-desk)")
    path = tmp_path / "flic2" / "80e4da712345.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["pairing_id"] in button.pairings
    assert bytes.fromhex(stored["pairing_key"]) == button.pairings[stored["pairing_id"]]
    assert stored["boot_id"] == button.boot_id
    assert [s.address for s in ble_sources(tmp_path, radio.transport)] == [ADDRESS]


async def test_pair_ble_with_no_button_in_range_says_what_to_do(
    tmp_path: Path, radio: SimRadio, verify_key: bytes
) -> None:
    radio.drop(ADDRESS)
    with pytest.raises(SourceError, match="hold it for 7 s"):
        await pair_ble(
            tmp_path,
            out=lambda _: None,
            transport_factory=radio.transport,
            scanner=radio.scan,
            verify_key=verify_key,
        )


async def test_source_reports_connection_battery_and_each_kind_of_press(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    run = Run(source(tmp_path, radio, verify_key))
    seen = lambda: [e for e in run.events if isinstance(e, ButtonSeen)]  # noqa: E731
    await run.until(lambda: any(s.battery is not None for s in seen()), "battery")
    assert seen()[0].connected is True
    assert [s.battery for s in seen() if s.battery is not None] == [98]
    for kind in ("single", "double", "hold"):
        button.press(kind)
    await run.until(lambda: len(run.clicks) == 3, "three clicks")
    assert [c.click_type for c in run.clicks] == [
        ClickType.SINGLE,
        ClickType.DOUBLE,
        ClickType.HOLD,
    ]
    assert {(c.address, c.source, c.queued, c.pressed_at, c.name_hint) for c in run.clicks} == {
        (ADDRESS, "ble", False, NOW, "front-desk")
    }
    await run.stop()


async def test_battery_is_read_again_while_the_button_stays_connected(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    ble = BleSource(
        ADDRESS, tmp_path, radio.transport, verify_key=verify_key, battery_interval_s=0.01
    )
    run = Run(ble)
    await run.until(lambda: bool(run.events), "connected")
    button.battery_level = 800  # about 2.81 V
    levels = lambda: [e.battery for e in run.events if isinstance(e, ButtonSeen) and e.battery]  # noqa: E731
    await run.until(lambda: 63 in levels(), "the new battery level")
    assert levels()[0] == 98
    assert set(levels()) == {98, 63}
    await run.stop()


async def test_presses_made_out_of_range_arrive_queued_with_their_press_time(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    first = Run(source(tmp_path, radio, verify_key))
    await first.until(lambda: bool(first.events), "connected")
    radio.drop(ADDRESS)
    await first.until(lambda: first.task.done(), "link loss")
    assert first.error is not None
    assert "lost the Bluetooth link" in str(first.error)
    assert first.events[-1] == ButtonSeen(ADDRESS, "ble", NOW, connected=False)
    button.press("single")
    button.tick(30.0)
    button.press("double")
    radio.restore(ADDRESS)
    second = Run(source(tmp_path, radio, verify_key))  # the supervisor's retry
    await second.until(lambda: len(second.clicks) == 2, "queued clicks")
    single, double = second.clicks
    assert (single.click_type, single.queued) == (ClickType.SINGLE, True)
    assert (double.click_type, double.queued) == (ClickType.DOUBLE, True)
    assert single.queued_s == pytest.approx(30.4, abs=0.001)
    assert double.queued_s == pytest.approx(0.0, abs=0.001)
    assert single.pressed_at == NOW - timedelta(seconds=single.queued_s)
    await second.stop()


async def test_a_restart_neither_replays_nor_loses_presses(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    first = Run(source(tmp_path, radio, verify_key))
    await first.until(lambda: bool(first.events), "connected")
    button.press("single")
    button.press("hold")  # the protocol never acknowledges a hold: the button keeps it
    await first.until(lambda: len(first.clicks) == 2, "two clicks")
    await first.stop()  # the bridge stops
    stored = PairingStore(tmp_path).load(ADDRESS)
    assert stored is not None
    assert stored.event_count == button.event_count
    button.resend_all_unacked = True  # and the button even offers the hold again
    button.press("double")  # pressed while the bridge was down
    second = Run(source(tmp_path, radio, verify_key))  # a new process, from the state dir
    await second.until(lambda: len(second.clicks) >= 1, "the missed click")
    button.press("single")
    await second.until(lambda: len(second.clicks) >= 2, "a live click")
    assert [(c.click_type, c.queued) for c in second.clicks] == [
        (ClickType.DOUBLE, True),
        (ClickType.SINGLE, False),
    ]
    await second.stop()


async def test_a_press_replayed_after_a_crash_keeps_its_event_id(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    """The bridge dies after storing a press but before recording the event count."""
    await paired(tmp_path, radio, button, verify_key)
    before = PairingStore(tmp_path).load(ADDRESS)
    assert before is not None
    first = Run(source(tmp_path, radio, verify_key))
    await first.until(lambda: bool(first.events), "connected")
    button.press("single")
    sent = list(button.unacked)
    await first.until(lambda: len(first.clicks) == 1, "the click")
    await first.stop()
    PairingStore(tmp_path).save(before)  # the count of that press was never written
    button.unacked = sent  # nor was it acknowledged: the button still holds it
    second = Run(source(tmp_path, radio, verify_key))
    await second.until(lambda: len(second.clicks) == 1, "the same press, sent again")
    await second.stop()
    assert second.clicks[0].click_type == ClickType.SINGLE
    assert second.clicks[0].event_id is not None
    assert second.clicks[0].event_id == first.clicks[0].event_id


async def test_a_corrupted_mac_ends_the_link_and_the_press_arrives_once_after(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    await paired(tmp_path, radio, button, verify_key)
    first = Run(source(tmp_path, radio, verify_key))
    await first.until(lambda: bool(first.events), "connected")
    button.corrupt_next_mac = True
    button.press("single")
    await first.until(lambda: first.task.done(), "the MAC failure")
    assert first.clicks == []
    assert "failed its MAC check" in str(first.error)
    second = Run(source(tmp_path, radio, verify_key))
    await second.until(lambda: len(second.clicks) == 1, "the click, resent")
    assert (second.clicks[0].click_type, second.clicks[0].queued) == (ClickType.SINGLE, True)
    await second.stop()


async def test_an_unpaired_button_says_how_to_pair(
    tmp_path: Path, radio: SimRadio, verify_key: bytes
) -> None:
    run = Run(source(tmp_path, radio, verify_key))
    await run.until(lambda: run.task.done(), "the error")
    assert "flic-bridge pair --ble" in str(run.error)


async def test_a_damaged_pairing_file_is_named(
    tmp_path: Path, radio: SimRadio, verify_key: bytes
) -> None:
    (tmp_path / "flic2").mkdir()
    (tmp_path / "flic2" / "80e4da712345.json").write_text('{"address": "80:e4:da:71:23:45"}')
    run = Run(source(tmp_path, radio, verify_key))
    await run.until(lambda: run.task.done(), "the error")
    assert "stored pairing is damaged" in str(run.error)


async def test_missing_bluez_or_adapter_is_one_clear_source_error(tmp_path: Path) -> None:
    store = PairingStore(tmp_path)

    store.save(Pairing(ADDRESS, pairing_id=1, pairing_key=bytes(16)))
    ble = BleSource(ADDRESS, tmp_path, lambda: BleakTransport("hci99", connect_timeout_s=2))
    with pytest.raises(BleUnavailable) as info:
        await anext(ble.events())
    assert isinstance(info.value, SourceError)
    message = str(info.value)
    assert "BlueZ" in message
    assert "flicd and BlueZ cannot share one adapter" in message
