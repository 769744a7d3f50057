"""End to end: a simulated Flic Duo or Flic Twist -> BLE source -> bridge runtime and outbox
-> webhook, with the gesture's click type and its `button_number` or `position`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.bridge.receiver import Receiver
from tests.flic2.bridge_run import bridge_over_ble, until
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_duo import SimDuo
from tests.flic2.sim_twist import SimTwist


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def bodies_received(hook: Receiver, count: int) -> Callable[[], Awaitable[bool]]:
    async def enough() -> bool:
        return len(hook.bodies()) >= count

    return enough


async def test_duo_gestures_reach_the_webhook_with_their_button(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes, hook: Receiver
) -> None:
    duo = SimDuo(ADDRESS, factory_key, name="duo")
    mapping = {
        "name": "duo",
        "on": ["single", "swipe_up", "push_twist_right"],
        "off": ["swipe_down"],
        "info": "Desk Duo",
    }

    def enabled() -> bool:  # push-twist enabled on the bridge's own link, not only on pairing
        return duo.received_opcodes.count(37) == 2

    async with bridge_over_ble(tmp_path, duo, verify_key, hook.url, mapping, ready=enabled):
        duo.press("single", small=True)
        duo.press("swipe_up")
        duo.press("double")  # not mapped: no webhook
        duo.twist(4096)
        duo.press("swipe_down", small=True)
        await until(bodies_received(hook, 4), "four webhooks")
    bodies = hook.bodies()
    assert [(b["click_type"], b["button_number"], b["flic_state"]) for b in bodies] == [
        ("single", 1, "On"),
        ("swipe_up", 0, "On"),
        ("push_twist_right", 0, "On"),
        ("swipe_down", 1, "Off"),
    ]
    assert {(b["flic_nameId"], b["source"], b["info"]) for b in bodies} == {
        ("duo", "ble", "Desk Duo")
    }
    assert len({b["event_id"] for b in bodies}) == 4


async def test_twist_turns_selector_and_push_reach_the_webhook(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes, hook: Receiver
) -> None:
    twist = SimTwist(ADDRESS, factory_key, name="dial")
    mapping = {
        "name": "dial",
        "on": ["twist_right", "selector_changed", "hold"],
        "off": ["twist_left"],
        "info": "Ward dial",
    }
    async with bridge_over_ble(
        tmp_path, twist, verify_key, hook.url, mapping, ready=lambda: 0x0A in twist.signed_opcodes
    ):
        twist.turn(4096 * 2)
        twist.turn(-4096)
        twist.select(4)  # four push-twists (not mapped: no webhook), then the new position
        twist.press("single")  # not mapped
        twist.press("hold")
        await until(bodies_received(hook, 5), "five webhooks")
    bodies = hook.bodies()
    assert [(b["click_type"], b.get("position"), b["flic_state"]) for b in bodies] == [
        ("twist_right", None, "On"),
        ("twist_right", None, "On"),
        ("twist_left", None, "Off"),
        ("selector_changed", 4, "On"),
        ("hold", None, "On"),
    ]
    assert {(b["flic_nameId"], b["source"], b["info"]) for b in bodies} == {
        ("dial", "ble", "Ward dial")
    }
    assert all("button_number" not in b for b in bodies)  # one button: no number
    assert len({b["event_id"] for b in bodies}) == 5
