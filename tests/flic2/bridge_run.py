"""One set-up for the end-to-end BLE tests: pair a simulated button with `flic-bridge pair
--ble`'s code, then run the bridge runtime with a BLE source for it and one webhook target."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bridge.app.runtime import Runtime
from bridge.config import parse_config
from bridge.sources.ble.source import BleSource, pair_ble
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton
from tests.flic2.sim_transport import SimRadio
from tests.support.procs import free_port


async def until(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    """Poll an async check until it returns something true."""
    async with asyncio.timeout(timeout_s):
        while not (value := await check()):
            await asyncio.sleep(0.05)
    return value


@contextlib.asynccontextmanager
async def bridge_over_ble(
    tmp_path: Path,
    sim: SimButton,
    verify_key: bytes,
    forward_url: str,
    button: dict[str, Any],
    *,
    ready: Callable[[], bool] | None = None,
    sections: dict[str, Any] | None = None,
) -> AsyncIterator[SimRadio]:
    """Pair `sim` (the simulator's factory key stands in for the vendor's, Flic 2 and Twist
    alike), start the runtime with `button` as its `[[button]]`, and stop it on exit; yields
    once the bridge's link is verified (and `ready` says the button's set-up is done).
    `sections` adds or replaces config sections (`mqtt`, ...)."""
    air = SimRadio(sim)
    state_dir = tmp_path / "bridge"
    sim.hold_for_pairing()
    keys = {"verify_key": verify_key, "twist_verify_key": verify_key}
    await pair_ble(
        state_dir, out=lambda _: None, transport_factory=air.transport, scanner=air.scan, **keys
    )
    config = parse_config(
        {
            "bridge": {
                "name": "bridge-e2e",
                "state_dir": str(state_dir),
                "listen": f"127.0.0.1:{free_port()}",
                "token": "e2e-token-1234",
            },
            "forward": [{"url": forward_url}],
            "flicd": {"enabled": False},
            "hub": {"enabled": False},
            "button": [{"address": ADDRESS, **button}],
            **(sections or {}),
        }
    )
    source = BleSource(ADDRESS, state_dir, air.transport, **keys)
    runtime = Runtime(config, sources=[source], rand=lambda: 0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))

    async def verified() -> bool:
        linked = sim.link is not None and sim.link.ready
        return linked and (ready is None or ready())

    try:
        await until(verified, "the bridge to verify the button")
        yield air
    finally:
        stop.set()
        await task
