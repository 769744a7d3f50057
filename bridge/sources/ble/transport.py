"""The seam between the Flic 2 protocol and a radio: the transport Protocol and its errors.

bleak.py implements it on BlueZ; the tests' simulator implements it in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from bridge.errors import SourceError

ADAPTER_HINT = (
    "install BlueZ and start bluetoothd, check the adapter exists and is powered "
    "(bluetoothctl list; bluetoothctl power on), and stop flicd on that adapter: flicd and "
    "BlueZ cannot share one adapter (give each its own, or set [ble] enabled = false)"
)


class BleUnavailable(SourceError):  # noqa: N818 - the name the rest of the bridge expects
    """Bluetooth LE cannot be used on this machine (no BlueZ, no adapter, or flicd holds it)."""


class ButtonNotAdvertising(SourceError):  # noqa: N818 - reads as what happened
    """One button is not advertising: Bluetooth itself is fine, the other buttons go on."""


class BleTransport(Protocol):
    """One BLE link to one button: the seam between the protocol and bleak (or a simulator)."""

    att_mtu: int
    twist: bool  # after connect: the device is a Flic Twist (its own GATT service)

    async def connect(self, address: str) -> None:
        """Wait for the button's advertisement, then connect (ButtonNotAdvertising if none)."""
        ...

    async def write(self, data: bytes) -> None: ...

    def notifications(self) -> AsyncIterator[bytes]:
        """Frames the button notifies; ends when the link is lost."""
        ...

    async def disconnect(self) -> None: ...


TransportFactory = Callable[[], BleTransport]
Scanner = Callable[[float], Awaitable[list[str]]]
