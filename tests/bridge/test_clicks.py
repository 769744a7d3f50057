"""Click to state, and the forwarded body exactly as the contract shows it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.clicks import forward_body, state_for
from bridge.config import ButtonSpec, default_button
from bridge.models import ClickType

from .factories import T0, click

FRONT_DESK = ButtonSpec(
    address="80:e4:da:71:23:45",
    name="front-desk",
    on=frozenset({ClickType.SINGLE, ClickType.HOLD}),
    off=frozenset({ClickType.DOUBLE}),
    info="Front desk",
)


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (ClickType.SINGLE, "On"),
        (ClickType.HOLD, "On"),
        (ClickType.DOUBLE, "Off"),
        (ClickType.CLICK, None),
        (ClickType.DOWN, None),
        (ClickType.UP, None),
    ],
)
def test_configured_mapping_decides_the_state(kind: ClickType, state: str | None) -> None:
    assert state_for(FRONT_DESK, kind) == state


def test_a_stranger_gets_single_and_hold_on_double_off() -> None:
    stranger = default_button("80:e4:da:00:00:09")
    assert stranger.name == "80:e4:da:00:00:09"
    assert not stranger.configured
    assert [state_for(stranger, k) for k in ClickType] == ["On", "Off", "On"] + [None] * 12


def test_duo_and_twist_gestures_map_like_any_click_and_say_which_button() -> None:
    duo = ButtonSpec(
        address="80:e4:da:71:23:46",
        name="duo",
        on=frozenset({ClickType.SWIPE_UP, ClickType.PUSH_TWIST_RIGHT}),
        off=frozenset({ClickType.SWIPE_DOWN}),
        info="",
    )
    assert state_for(duo, ClickType.SWIPE_UP) == "On"
    assert state_for(duo, ClickType.SWIPE_DOWN) == "Off"
    assert state_for(duo, ClickType.SINGLE) is None
    body = forward_body(
        replace(click(event_id="e-2", at=T0), click_type=ClickType.SWIPE_UP, button_number=1),
        duo,
        "On",
        "bridge-1",
    )
    assert (body["click_type"], body["button_number"]) == ("swipe_up", 1)
    assert "position" not in body
    turned = replace(
        click(event_id="e-3", at=T0), click_type=ClickType.SELECTOR_CHANGED, position=7
    )
    body = forward_body(turned, duo, None, "bridge-1")
    assert (body["click_type"], body["position"]) == ("selector_changed", 7)
    assert "button_number" not in body


def test_forward_body_is_the_contract_body() -> None:
    event = click(event_id="e-1", at=T0)
    body = forward_body(event, FRONT_DESK, "On", "bridge-1")
    assert body == {
        "flic_nameId": "front-desk",
        "flic_state": "On",
        "info": "Front desk",
        "click_type": "single",
        "button_address": "80:e4:da:71:23:45",
        "source": "flicd",
        "event_id": "e-1",
        "pressed_at": "2026-11-26T07:00:00.000Z",
        "queued": False,
        "queued_seconds": 0,
        "bridge": "bridge-1",
        "received_at": "2026-11-26T07:00:00.000Z",
        "stored_at": "2026-11-26T07:00:00.000Z",
    }
    assert list(body)[:3] == ["flic_nameId", "flic_state", "info"]


def test_a_queued_press_carries_its_real_press_time_and_age() -> None:
    body = forward_body(click(at=T0, queued_s=90), FRONT_DESK, "On", "bridge-1")
    assert body["queued"] is True
    assert body["queued_seconds"] == 90
    assert body["pressed_at"] == "2026-11-26T06:58:30.000Z"


def test_priority_on_adds_the_priority_for_its_click_types_only() -> None:
    bed = ButtonSpec(
        address="80:e4:da:71:23:46",
        name="bed-1",
        on=frozenset({ClickType.SINGLE, ClickType.HOLD}),
        off=frozenset({ClickType.DOUBLE}),
        info="Bed 1",
        priority_on=((ClickType.HOLD, "urgent"),),
    )
    held = forward_body(click(event_id="e-2", at=T0, kind=ClickType.HOLD), bed, "On", "bridge-1")
    assert held["priority"] == "urgent"
    single = forward_body(click(event_id="e-3", at=T0), bed, "On", "bridge-1")
    assert "priority" not in single  # the server's default (normal) applies
