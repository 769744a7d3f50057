"""The bridge's BLE source with a simulated Flic Twist: pairing on the Twist's own service,
pushes, turns and selector moves as clicks, acknowledgements, queued pushes and reconnects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge.errors import SourceError
from bridge.flic2 import ProtocolError
from bridge.flic2 import twist as twist_protocol
from bridge.models import ButtonSeen, ClickType
from bridge.sources.ble.source import BleSource, pair_ble
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_transport import SimRadio
from tests.flic2.sim_twist import SimTwist
from tests.flic2.test_ble_source import NOW, Run


@pytest.fixture
def twist(factory_key: Ed25519PrivateKey) -> SimTwist:
    return SimTwist(ADDRESS, factory_key, name="dial")


@pytest.fixture
def air(twist: SimTwist) -> SimRadio:
    return SimRadio(twist)


async def pair_twist(tmp_path: Path, air: SimRadio, twist: SimTwist, key: bytes) -> list[str]:
    twist.hold_for_pairing()
    said: list[str] = []
    await pair_ble(
        tmp_path,
        out=said.append,
        transport_factory=air.transport,
        scanner=air.scan,
        verify_key=b"\x00" * 32,  # a Flic 2 key that would fail: the Twist has its own
        twist_verify_key=key,
    )
    return said


def twist_source(tmp_path: Path, air: SimRadio, key: bytes) -> BleSource:
    return BleSource(
        ADDRESS, tmp_path, air.transport, twist_verify_key=key, verify_key=key, clock=lambda: NOW
    )


async def test_a_twist_pairs_on_its_own_service_and_is_stored_as_a_twist(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    said = await pair_twist(tmp_path, air, twist, verify_key)
    stored = json.loads((tmp_path / "flic2" / "80e4da712345.json").read_text())
    assert (stored["twist"], stored["serial_number"]) == (True, "TSIM-00001")
    assert stored["name"] == "dial"
    assert twist.pairings == {stored["pairing_id"]: bytes.fromhex(stored["pairing_key"])}
    assert twist.flags_seen == [0x00]
    assert any("Flic Twist" in line and "selector_changed" in line for line in said)


async def test_pushes_turns_and_selector_moves_become_clicks_and_are_acknowledged(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    await pair_twist(tmp_path, air, twist, verify_key)
    run = Run(twist_source(tmp_path, air, verify_key))
    await run.until(lambda: 0x0A in twist.signed_opcodes, "init, battery, firmware, name")
    # Single and double clicks at every selector position, none while turned pushed in.
    assert [config[0] >> 6 for config in twist.mode_configs] == [0b11] * 12 + [0]
    twist.press("single")
    twist.press("double")
    twist.press("hold")
    twist.turn(4096 * 2 + 100)  # two detents clockwise, a little over
    twist.turn(-4096 - 100)  # one back (the little over is used up)
    twist.select(5)  # push, turn five detents, release at position 5
    await run.until(lambda: len(run.clicks) >= 12, "twelve clicks")
    assert [(c.click_type, c.position) for c in run.clicks] == [
        (ClickType.SINGLE, None),
        (ClickType.DOUBLE, None),
        (ClickType.HOLD, None),
        (ClickType.TWIST_RIGHT, None),
        (ClickType.TWIST_RIGHT, None),
        (ClickType.TWIST_LEFT, None),
        *[(ClickType.PUSH_TWIST_RIGHT, None)] * 5,
        (ClickType.SELECTOR_CHANGED, 5),
    ]
    assert {c.source for c in run.clicks} == {"ble"}
    pushes = [c for c in run.clicks if c.event_id is not None]
    assert len({c.event_id for c in pushes}) == len(pushes) == 4  # turns get minted ids
    await run.until(lambda: not twist.twist_unacked, "every push acknowledged")
    assert twist.acks[-1] == twist.event_count
    battery = [e.battery for e in run.events if isinstance(e, ButtonSeen) and e.battery]
    assert battery == [88]  # 2.9 V of two AAA cells
    await run.stop()
    stored = json.loads((tmp_path / "flic2" / "80e4da712345.json").read_text())
    assert (stored["event_count"], stored["selector"]) == (twist.event_count, 5)


async def test_pushes_made_away_arrive_queued_once_and_the_selector_is_remembered(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    await pair_twist(tmp_path, air, twist, verify_key)
    first = Run(twist_source(tmp_path, air, verify_key))
    await first.until(lambda: 0x0A in twist.signed_opcodes, "connected")
    twist.select(3)
    await first.until(lambda: len(first.clicks) == 4, "three push-twists and the move")
    await first.stop()
    acknowledged = twist.acks[-1]
    twist.press("hold")  # nobody listening: the Twist keeps it
    twist.tick(20)
    second = Run(twist_source(tmp_path, air, verify_key))
    await second.until(lambda: len(second.clicks) == 1, "the queued hold")
    (hold,) = second.clicks
    assert (hold.click_type, hold.queued) == (ClickType.HOLD, True)
    assert hold.queued_s == pytest.approx(20.3, abs=0.01)  # from its release to the init
    twist.press("single")  # at position 3 still: no selector_changed again
    await second.until(lambda: len(second.clicks) == 2, "a live single")
    assert second.clicks[1].click_type is ClickType.SINGLE
    await second.stop()
    # The init asked for events after the last count the bridge had acknowledged.
    assert twist.init_requests[-1] == (acknowledged, twist.boot_id)
    assert acknowledged > 0


async def test_a_twist_that_forgot_the_pairing_says_pair_again(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    await pair_twist(tmp_path, air, twist, verify_key)
    twist.pairings.clear()  # factory reset
    run = Run(twist_source(tmp_path, air, verify_key))
    await run.task
    assert run.error is not None
    assert "pair it again" in str(run.error)


async def test_a_twist_not_in_pairing_mode_or_not_genuine_is_not_paired(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    said: list[str] = []
    with pytest.raises(SourceError, match="could be paired"):
        await pair_ble(
            tmp_path,
            out=said.append,
            transport_factory=air.transport,
            scanner=air.scan,
            twist_verify_key=verify_key,
        )
    assert any("not in pairing mode" in line for line in said)
    twist.hold_for_pairing()
    said.clear()
    with pytest.raises(SourceError):  # the vendor's real Twist key: the simulator fails it
        await pair_ble(tmp_path, out=said.append, transport_factory=air.transport, scanner=air.scan)
    assert any("not a genuine Flic Twist" in line for line in said)
    assert not (tmp_path / "flic2").exists()
    assert twist.pairings == {}


async def test_a_rebooted_twist_is_heard_from_its_new_count(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    await pair_twist(tmp_path, air, twist, verify_key)
    first = Run(twist_source(tmp_path, air, verify_key))
    await first.until(lambda: 0x0A in twist.signed_opcodes, "connected")
    for _ in range(3):
        twist.press("single")
    await first.until(lambda: len(first.clicks) == 3, "three singles")
    await first.stop()
    twist.reboot()  # new batteries: a new boot id, the count starts again
    twist.press("double")
    second = Run(twist_source(tmp_path, air, verify_key))
    await second.until(lambda: len(second.clicks) == 1, "the double from the new boot")
    assert second.clicks[0].click_type is ClickType.DOUBLE
    assert second.clicks[0].event_id != first.clicks[-1].event_id
    await second.stop()


def test_malformed_twist_packets_are_named_errors() -> None:
    with pytest.raises(ProtocolError, match="items are not 8 bytes"):
        twist_protocol.parse_button_events(bytes([0x09, 1, 0, 0, 0, 1, 2, 3]))
    with pytest.raises(ProtocolError, match="needs 16"):
        twist_protocol.parse_init_response(bytes([0x08, 0, 0]))
    with pytest.raises(ProtocolError, match="needs 13"):
        twist_protocol.parse_rotation(bytes([0x0A, 0]))


async def test_a_part_turn_does_not_carry_over_into_a_pushed_turn(
    tmp_path: Path, air: SimRadio, twist: SimTwist, verify_key: bytes
) -> None:
    await pair_twist(tmp_path, air, twist, verify_key)
    run = Run(twist_source(tmp_path, air, verify_key))
    await run.until(lambda: 0x0A in twist.signed_opcodes, "connected")
    twist.turn(-4000)  # not quite a detent back
    twist.select(1)  # one detent forward, pushed in: a push-twist of its own
    await run.until(lambda: len(run.clicks) >= 2, "the push-twist and the move")
    assert [c.click_type for c in run.clicks] == [
        ClickType.PUSH_TWIST_RIGHT,
        ClickType.SELECTOR_CHANGED,
    ]
    await run.stop()
