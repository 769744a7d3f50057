"""The simulated Flic Twist against the vendor's own pyflic-ble 0.2.5 (its Twist handler).

pyflic-ble pairs with the simulated Twist on the Twist's own protocol, quick-verifies, sends
its 13-mode init, reads battery, firmware and name, and reads pushes, turns and selector moves
as the simulator writes them. Where pyflic-ble is itself a weak reference, the test says so:
- it counts a turn in 1 % steps of a bounded range (100 per turn at a position, none past the
  ends), where the bridge counts twelfths of a turn; only the direction is compared here;
- it never acknowledges Twist events and always asks for events after count 0 of boot 0;
  the bridge's acknowledgements and event counts are checked against the simulator in
  test_twist_source.py.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyflic_ble.const import DeviceType, PushTwistMode
from pyflic_ble.handlers.twist import TwistProtocolHandler

from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_twist import SimTwist
from tests.flic2.vendor import VendorClient, vendor_client_for


@pytest.fixture
def twist(factory_key: Ed25519PrivateKey) -> SimTwist:
    return SimTwist(ADDRESS, factory_key, name="dial")


@pytest.fixture
def vendor_client(
    monkeypatch: pytest.MonkeyPatch, twist: SimTwist, verify_key: bytes
) -> VendorClient:
    return vendor_client_for(monkeypatch, twist, verify_key, TwistProtocolHandler)


async def test_vendor_client_pairs_with_the_simulated_twist_and_hears_push_turn_and_selector(
    vendor_client: VendorClient, twist: SimTwist
) -> None:
    twist.hold_for_pairing()
    pairing = vendor_client(device_type=DeviceType.TWIST)
    await pairing.connect()
    (
        pairing_id,
        pairing_key,
        serial,
        battery,
        _bits,
        _uuid,
        firmware,
    ) = await pairing.full_verify_pairing()
    await pairing.disconnect()
    assert (serial, battery, firmware) == ("TSIM-00001", 2900, 11)
    assert DeviceType.from_serial_number(serial) is DeviceType.TWIST
    assert twist.pairings == {pairing_id: pairing_key}
    assert twist.flags_seen == [0x00]  # the Twist mixes in no "supports Duo" flag

    client = vendor_client(
        pairing_id=pairing_id,
        pairing_key=pairing_key,
        serial_number=serial,
        push_twist_mode=PushTwistMode.SELECTOR,
    )
    pushes: list[tuple[str, int | None]] = []
    turns: list[str] = []
    client.register_button_event_callback(
        lambda kind, data: pushes.append((kind, data.get("selector_index")))
    )
    client.register_rotate_event_callback(lambda kind, _data: turns.append(kind))
    await client.start()
    assert client.is_twist
    assert twist.signed_opcodes[:4] == [0x0C, 0x11, 0x07, 0x0A]  # init, battery, fw, name
    assert len(twist.mode_configs) == 13
    assert client.state.battery_voltage == pytest.approx(2.9)
    assert client.state.device_name == "dial"

    twist.press("single")
    twist.press("double")
    twist.press("hold")
    twist.turn(4096 * 2)
    twist.turn(-4096)
    twist.select(5)
    await client.stop()
    # pyflic-ble's names: a single is "click", a double's last release "double_click".
    assert pushes == [
        *(("down", None), ("up", None), ("click", None)),
        *(("down", None), ("up", None), ("down", None), ("double_click", None)),
        *(("down", None), ("hold", None), ("up", None)),
        *(("down", None), ("selector_changed", 5), ("up", None)),
    ]
    assert turns == ["rotate_clockwise", "rotate_counter_clockwise", "rotate_clockwise"]
    assert twist.acks == []  # pyflic-ble never acknowledges Twist events
    assert twist.init_requests == [(0, 0)]  # and asks for everything since count 0 of boot 0
