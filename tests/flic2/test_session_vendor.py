"""The session where the vendor's C module (flic2lib-c-module) is the reference: refused
credentials, a doubtful "pairing unknown", advertising settings per boot, every event code."""

from __future__ import annotations

import pytest

from bridge.flic2 import (
    CredentialsRefusedError,
    Flic2Session,
    ForgedUnpairedError,
    PairingUnknownError,
    Verified,
)
from bridge.models import ClickType
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.test_session_sim import Wire, pair, presses

C = ClickType


def test_a_button_refusing_our_app_credentials_is_not_paired(
    button: SimButton, verify_key: bytes
) -> None:
    button.credentials_flags = 0b10  # cares about app credentials, ours do not match
    button.hold_for_pairing()
    wire = Wire(button, Flic2Session(ADDRESS, verify_key=verify_key))
    with pytest.raises(CredentialsRefusedError, match="locked to another app"):
        wire.pump()
    assert wire.session.pairing is None
    assert button.pairings == {}


def test_credentials_that_do_not_match_but_do_not_matter_still_pair(
    button: SimButton, verify_key: bytes
) -> None:
    button.credentials_flags = 0b00
    pairing = pair(button, verify_key)
    assert button.pairings == {pairing.pairing_id: pairing.pairing_key}


def test_a_forged_pairing_unknown_is_disproved_and_the_pairing_kept(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    button.forge_unpaired = True
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    with pytest.raises(ForgedUnpairedError, match="pairing kept"):
        wire.pump()
    assert button.unpaired_tests == ["EX"]
    button.disconnect()
    button.forge_unpaired = False
    again = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    assert isinstance(again.pump()[0], Verified)


def test_a_real_pairing_unknown_is_proved_before_asking_to_pair_again(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    button.pairings.clear()  # factory reset
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    with pytest.raises(PairingUnknownError, match="pair it again"):
        wire.pump()
    assert button.unpaired_tests == ["NE"]
    assert button.received_opcodes[-3:] == [5, 0, 4]  # quick verify, full verify 1, the test


def test_advertising_parameters_are_set_once_per_boot(button: SimButton, verify_key: bytes) -> None:
    pairing = pair(button, verify_key)
    assert len(button.adv_parameters) == 1
    for _ in range(2):
        wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
        wire.pump()
        assert wire.session.pairing is not None
        pairing = wire.session.pairing
        button.disconnect()
    assert pairing.adv_configured
    assert len(button.adv_parameters) == 1
    button.reboot()
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    wire.pump()
    assert len(button.adv_parameters) == 2
    # active, keep other apps' settings, short range, no coded PHY, 100 ms / 8 s, one day
    assert button.adv_parameters[-1].hex() == "01000100a000003280510100"


def test_old_firmware_gets_no_advertising_parameters(button: SimButton, verify_key: bytes) -> None:
    button.firmware_version = 5
    pairing = pair(button, verify_key)
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    wire.pump()
    assert button.adv_parameters == []


def test_event_codes_7_10_and_15_become_the_vendor_module_click_types(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    wire.pump()
    button.press("slow_single")  # up code 10: single known on release, no timeout item
    assert presses(wire.pump()) == [C.DOWN, C.UP, C.CLICK, C.SINGLE]
    button.press("double_hold")  # 7 (hold, no hold click), then 15 (up of a held double)
    assert presses(wire.pump()) == [C.DOWN, C.UP, C.CLICK, C.DOWN, C.UP, C.DOUBLE]
    assert button.acks == [3, 11]  # both end a click: acknowledged at their up events
    assert button.unacked == []


def test_after_a_reboot_the_counter_restarts_at_0_and_no_press_is_lost(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    wire.pump()
    for _ in range(5):
        button.press("single")
    wire.pump()
    assert wire.session.pairing is not None
    before = wire.session.pairing
    assert before.event_count == 20
    button.disconnect()
    button.reboot()
    button.press("hold")  # made right after the battery change, before we reconnect
    wire = Wire(button, Flic2Session(ADDRESS, before, verify_key=verify_key))
    assert presses(wire.pump()) == [C.DOWN, C.HOLD, C.UP]
    after = wire.session.pairing
    assert after is not None
    assert after.boot_id == button.boot_id != before.boot_id
    assert after.event_count == button.event_count == 3
    assert button.acks[-1] == 3
