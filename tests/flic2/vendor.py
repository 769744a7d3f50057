"""The vendor's pyflic-ble 0.2.5 over an in-memory BLE client to a simulated button (no radio),
in place of bleak-retry-connector's `establish_connection`. One set-up for the Flic 2, Duo and
Twist tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bleak.backends.device import BLEDevice

# scripts/test-deps.sh installs pyflic-ble (make test runs it first); missing, this fails loudly.
from pyflic_ble import client as pyflic_client

from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton

VendorClient = Callable[..., pyflic_client.FlicClient]


class MemoryClient:
    """What bleak's client offers pyflic-ble, wired straight to a simulated button."""

    def __init__(self, button: SimButton) -> None:
        self.button = button
        self.is_connected = True
        self.mtu_size = 140
        self._notify: Callable[[Any, bytearray], None] | None = None
        button.connect(mtu=140)
        button.send = self._deliver

    def _deliver(self, frame: bytes) -> None:
        if self._notify is not None:
            self._notify(None, bytearray(frame))

    async def start_notify(self, _uuid: str, callback: Callable[[Any, bytearray], None]) -> None:
        self._notify = callback

    async def write_gatt_char(self, _uuid: str, data: bytes, response: bool = False) -> None:
        self.button.receive(bytes(data))

    async def disconnect(self) -> None:
        self.is_connected = False
        self.button.disconnect()


def vendor_client_for(
    monkeypatch: pytest.MonkeyPatch, button: SimButton, verify_key: bytes, handler: type
) -> VendorClient:
    """A maker of pyflic-ble FlicClients linked in memory to `button`, trusting the
    simulator's factory key in place of the vendor's (only the vendor holds the real one)."""

    async def establish_connection(*_args: Any, **_kwargs: Any) -> MemoryClient:
        return MemoryClient(button)

    async def close_stale(*_args: Any, **_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(pyflic_client, "establish_connection", establish_connection)
    monkeypatch.setattr(pyflic_client, "close_stale_connections_by_address", close_stale)
    monkeypatch.setattr(handler, "ed25519_public_key", property(lambda _self: verify_key))
    device = BLEDevice(ADDRESS, "F2", None)

    def make(**options: Any) -> pyflic_client.FlicClient:
        return pyflic_client.FlicClient(ADDRESS, ble_device=device, **options)

    return make
