"""The simulated Flic Duo against the vendor's own pyflic-ble 0.2.5 (its Duo handler).

pyflic-ble pairs with the simulated Duo, quick-verifies, recognises it as a Duo (by the verify
flags and serial), and reads both buttons' presses, swipes and push-twists from the Duo's event
stream as the simulator writes it. Where pyflic-ble departs from the vendor's Android library
(flic2lib-android), the test says so and works around it on pyflic-ble's side only:
- it ignores the init answer's "no queued events" and expects end-of-queue marker bits the
  Duo does not send then (the Android library, like our session, honours the answer);
- its bit reader stops 8 bits early, so the simulated Duo pads each event packet with a zero
  byte for it (`pad_packets`; pinned in test_duo_events.py);
- it never acknowledges Duo events (AckButtonEventsDuoInd); our session's acknowledgements are
  checked against the simulator in test_ble_links.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyflic_ble.const import DeviceType
from pyflic_ble.handlers.flic2 import Flic2ProtocolHandler

from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_duo import SimDuo
from tests.flic2.vendor import VendorClient, vendor_client_for


@pytest.fixture
def duo(factory_key: Ed25519PrivateKey) -> SimDuo:
    return SimDuo(ADDRESS, factory_key, name="duo")


@pytest.fixture
def vendor_client(monkeypatch: pytest.MonkeyPatch, duo: SimDuo, verify_key: bytes) -> VendorClient:
    return vendor_client_for(monkeypatch, duo, verify_key, Flic2ProtocolHandler)


async def test_vendor_client_pairs_with_the_simulated_duo_and_hears_both_buttons(
    vendor_client: VendorClient, duo: SimDuo
) -> None:
    duo.hold_for_pairing()
    pairing = vendor_client()
    await pairing.connect()
    pairing_id, pairing_key, serial, *_rest = await pairing.full_verify_pairing()
    await pairing.disconnect()
    assert serial == "DSIM-00001"
    assert DeviceType.from_serial_number(serial) is DeviceType.DUO

    client = vendor_client(pairing_id=pairing_id, pairing_key=pairing_key, serial_number=serial)
    seen: list[tuple[str, int | None]] = []
    turns: list[tuple[str, int | None, int]] = []
    client.register_button_event_callback(
        lambda kind, data: seen.append((kind, data.get("button_index")))
    )
    client.register_rotate_event_callback(
        lambda kind, data: turns.append((kind, data.get("button_index"), data["detent_crossings"]))
    )
    await client.start()
    assert client.is_duo
    assert duo.flags_seen == [0x80, 0x40]
    assert duo.duo_mode  # pyflic-ble sent InitButtonEventsDuoRequest (35)
    assert duo.push_twist_enabled == 0b11  # and EnablePushTwistInd (37) for both buttons
    # pyflic-ble's gap (see above): the Duo said "no queued events", so no marker bits follow.
    handler: Any = client._handler
    handler._duo_parser_state.has_processed_end_of_queue_marker = True

    duo.pad_packets = True
    duo.press("single", small=True)
    duo.press("double")
    duo.press("hold")
    duo.twist(4096 * 3)
    duo.twist(-4096 * 2, small=True)
    # Last: pyflic-ble ignores a button's twists for 300 ms after its swipe (trailing dial noise).
    duo.press("swipe_left", small=True)
    await client.stop()
    # pyflic-ble's names: a Duo single is "click" (type 6), a hold's release "up".
    assert seen == [
        *(("down", 1), ("up", 1), ("click", 1)),
        *(("down", 0), ("up", 0), ("down", 0), ("double_click", 0)),
        *(("down", 0), ("hold", 0), ("up", 0)),
        *(("down", 1), ("up", 1), ("swipe_left", 1)),
    ]
    assert [(kind, button) for kind, button, _n in turns] == [
        ("rotate_clockwise", 0),
        ("rotate_counter_clockwise", 1),
    ]
    assert duo.duo_acks == []  # pyflic-ble never acknowledges Duo events
