"""BleakTransport picks the service the device offers: the Twist's own, or the Flic 2 one
(bleak's client replaced by one with a GATT table, no radio)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bleak
import bleak_retry_connector
import pytest

from bridge.flic2 import NOTIFY_UUID, WRITE_UUID
from bridge.flic2 import twist as twist_protocol
from bridge.sources.ble.bleak import BleakTransport

ADDRESS = "80:e4:da:71:23:45"


@dataclass
class Char:
    properties: list[str]
    max_write_without_response_size: int = 20  # an MTU of 23


@dataclass
class Services:
    table: dict[str, dict[str, Char]]

    def get_service(self, uuid: str) -> object | None:
        return self.table.get(uuid)

    def get_characteristic(self, uuid: str) -> Char | None:
        return next((c[uuid] for c in self.table.values() if uuid in c), None)


@dataclass
class Client:
    services: Services
    notified: list[str] = field(default_factory=list)
    writes: list[tuple[str, bytes, bool]] = field(default_factory=list)

    async def start_notify(self, uuid: str, _callback: Any) -> None:
        self.notified.append(uuid)

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool = False) -> None:
        self.writes.append((uuid, data, response))

    async def disconnect(self) -> None:
        return None


def linked(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    async def find(*_args: Any, **_kwargs: Any) -> object:
        return object()

    async def establish(*_args: Any, **_kwargs: Any) -> Client:
        return client

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_address", find)
    monkeypatch.setattr(bleak_retry_connector, "establish_connection", establish)


WRITABLE = ["write", "write-without-response"]


async def test_a_twist_is_spoken_to_on_its_own_service_long_packets_as_long_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twist_chars = {
        twist_protocol.WRITE_UUID: Char(WRITABLE),
        twist_protocol.NOTIFY_UUID: Char(["notify"]),
    }
    client = Client(Services({twist_protocol.SERVICE_UUID: twist_chars}))
    linked(monkeypatch, client)
    transport = BleakTransport("hci0")
    await transport.connect(ADDRESS)
    assert transport.twist
    assert client.notified == [twist_protocol.NOTIFY_UUID]
    await transport.write(bytes(20))
    await transport.write(bytes(80))  # the Twist's init does not fit one write of MTU 23
    assert [(u, len(d), r) for u, d, r in client.writes] == [
        (twist_protocol.WRITE_UUID, 20, False),
        (twist_protocol.WRITE_UUID, 80, True),
    ]


async def test_a_flic_2_is_spoken_to_on_the_flic_2_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chars = {WRITE_UUID: Char(WRITABLE), NOTIFY_UUID: Char(["notify"])}
    client = Client(Services({"00420000-8f59-4420-870d-84f3b617e493": chars}))
    linked(monkeypatch, client)
    transport = BleakTransport("hci0")
    await transport.connect(ADDRESS)
    assert not transport.twist
    assert client.notified == [NOTIFY_UUID]
    await transport.write(bytes(20))
    assert client.writes == [(WRITE_UUID, bytes(20), False)]
