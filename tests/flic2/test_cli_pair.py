"""`flic-bridge pair --ble` as a real program, and the runtime's BLE wiring."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bridge.config import parse_config
from bridge.models import ClickType, RawClick
from bridge.sources.ble.source import ble_sources_for, pair_ble
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio


def test_pair_ble_without_bluez_says_what_to_do_in_one_message(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[bridge]\nstate_dir = "{tmp_path / "state"}"\n[ble]\nenabled = true\nadapter = "hci99"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "pair", "--ble", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Hold the Flic 2 button down for 7 seconds" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("flic-bridge:")]
    assert len(errors) == 1
    assert "Bluetooth LE unavailable on hci99" in errors[0]
    assert "flicd and BlueZ cannot share one adapter" in errors[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "state" / "flic2").exists()


async def test_runtime_sources_follow_pairings_and_the_button_mapping(
    tmp_path: Path, radio: SimRadio, button: SimButton, verify_key: bytes
) -> None:
    config = parse_config(
        {
            "bridge": {"state_dir": str(tmp_path)},
            "ble": {"enabled": True},
            "button": [{"address": ADDRESS, "name": "desk", "on": ["click"], "off": ["double"]}],
        }
    )
    assert ble_sources_for(config, transport_factory=radio.transport) == []
    button.hold_for_pairing()
    await pair_ble(
        tmp_path,
        out=lambda _: None,
        transport_factory=radio.transport,
        scanner=radio.scan,
        verify_key=verify_key,
    )
    (source,) = ble_sources_for(config, transport_factory=radio.transport)
    events = source.events()
    button.press("single")  # pressed before the connection: it arrives queued
    clicks: list[RawClick] = []
    async for event in events:
        if isinstance(event, RawClick):
            clicks.append(event)
        if len(clicks) == 2:
            break
    await events.aclose()
    # "click" is mapped for this button, so it comes through besides the default kinds.
    assert [c.click_type for c in clicks] == [ClickType.CLICK, ClickType.SINGLE]
    assert clicks[0].pressed_at <= datetime.now(UTC)
