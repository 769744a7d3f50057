"""The BLE transport seam wired to simulated buttons: what bleak would do, minus the radio."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bridge.errors import SourceError
from bridge.sources.ble.transport import ButtonNotAdvertising
from tests.flic2.sim_button import SimButton


class SimRadio:
    """The air between the bridge and the simulated buttons."""

    def __init__(self, *buttons: SimButton, att_mtu: int = 23) -> None:
        self.buttons = {b.address: b for b in buttons}
        self.att_mtu = att_mtu
        self.in_range = {b.address: True for b in buttons}
        self.links: list[SimTransport] = []
        # How long a connect waits for the button to advertise (BleakTransport waits minutes).
        self.advert_wait_s = 0.0
        self.advertising = {b.address: asyncio.Event() for b in buttons}
        for event in self.advertising.values():
            event.set()

    def transport(self) -> SimTransport:
        """A new transport, as the source's factory makes one per connection attempt."""
        link = SimTransport(self)
        self.links.append(link)
        return link

    def drop(self, address: str) -> None:
        """The button walks out of range: its live link, if any, is lost."""
        self.in_range[address] = False
        self.advertising[address].clear()
        for link in self.links:
            if link.button is not None and link.button.address == address:
                link.lost()

    def restore(self, address: str) -> None:
        """Back in range."""
        self.in_range[address] = True
        self.advertising[address].set()  # it advertises as soon as it is back

    async def scan(self, _seconds: float) -> list[str]:
        """What a scan finds: every button in range."""
        return [a for a, here in self.in_range.items() if here]


class SimTransport:
    """One link, implementing bridge.sources.ble.source.BleTransport."""

    def __init__(self, radio: SimRadio) -> None:
        self.radio = radio
        self.att_mtu = radio.att_mtu
        self.twist = False
        self.button: SimButton | None = None
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.written: list[bytes] = []

    async def connect(self, address: str) -> None:
        button = self.radio.buttons.get(address)
        if button is None:
            raise ButtonNotAdvertising(f"{address} is not advertising")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.radio.advert_wait_s):
                await self.radio.advertising[address].wait()
        if not self.radio.in_range[address]:
            raise ButtonNotAdvertising(f"{address} is not advertising")
        self.button = button
        self.twist = getattr(button, "twist_service", False)  # a SimTwist offers its own service
        button.connect(self.att_mtu)
        button.send = self._queue.put_nowait

    async def write(self, data: bytes) -> None:
        button = self.button
        if button is None:
            raise SourceError("not connected")
        self.written.append(data)
        button.receive(data)
        if button.link is None:  # the button dropped the link (e.g. bad MAC)
            self.lost()

    def lost(self) -> None:
        """The link went down."""
        if self.button is not None:
            self.button.disconnect()
            self.button = None
        self._queue.put_nowait(None)

    async def notifications(self) -> AsyncIterator[bytes]:
        while (frame := await self._queue.get()) is not None:
            yield frame

    async def disconnect(self) -> None:
        self.lost()
