"""End to end: simulated Flic Duo -> BLE source -> bridge runtime and outbox -> webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.sources.ble.source import BleSource, pair_ble
from tests.bridge.receiver import Receiver
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_duo import SimDuo
from tests.flic2.sim_transport import SimRadio
from tests.flic2.test_e2e_ble import until
from tests.support.procs import free_port


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


async def test_duo_gestures_reach_the_webhook_with_their_button(
    tmp_path: Path, factory_key: Ed25519PrivateKey, verify_key: bytes, hook: Receiver
) -> None:
    duo = SimDuo(ADDRESS, factory_key, name="duo")
    radio = SimRadio(duo)
    state_dir = tmp_path / "bridge"
    duo.hold_for_pairing()
    await pair_ble(
        state_dir,
        out=lambda _: None,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )
    config = parse_config(
        {
            "bridge": {
                "name": "bridge-duo",
                "state_dir": str(state_dir),
                "listen": f"127.0.0.1:{free_port()}",
                "token": "duo-token-1234",
            },
            "forward": [{"url": hook.url}],
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "button": [
                {
                    "address": ADDRESS,
                    "name": "duo",
                    "on": ["single", "swipe_up", "push_twist_right"],
                    "off": ["swipe_down"],
                    "info": "Desk Duo",
                }
            ],
        }
    )
    source = BleSource(ADDRESS, state_dir, radio.transport, verify_key=verify_key)
    runtime = Runtime(config, sources=[source], rand=lambda: 0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))

    async def enabled() -> bool:
        return duo.received_opcodes.count(37) == 2  # the bridge's own link is up

    async def four() -> bool:
        return len(hook.bodies()) >= 4

    try:
        await until(enabled, "the bridge to verify the Duo")
        duo.press("single", small=True)
        duo.press("swipe_up")
        duo.press("double")  # not mapped: no webhook
        duo.twist(4096)
        duo.press("swipe_down", small=True)
        await until(four, "four webhooks")
    finally:
        stop.set()
        await task
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
