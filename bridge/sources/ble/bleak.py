"""The BLE transport through bleak on BlueZ, scanning for Flic 2, and "BLE unavailable" errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bridge.errors import SourceError
from bridge.flic2 import MANUFACTURER_ID, NOTIFY_UUID, SERVICE_UUID, WRITE_UUID
from bridge.flic2 import twist as twist_protocol
from bridge.flic2.frames import MAX_ATT_MTU, MIN_ATT_MTU
from bridge.sources.ble.transport import ADAPTER_HINT, BleUnavailable, ButtonNotAdvertising

# How long one connect attempt waits for the button's advertisement before the supervisor's
# backoff takes over: a button comes back the moment it advertises, not at the next timer tick.
ADVERT_WAIT_S = 300.0

_ADAPTER_TEXTS = ("No Bluetooth adapters", "NotReady", "org.freedesktop.DBus.Error")


def _bleak_not_available() -> tuple[type[BaseException], ...]:
    """bleak's structured "no Bluetooth here" error, where the installed bleak has it."""
    try:
        # optional hardware: bleak is imported only where a radio is used
        from bleak.exc import BleakBluetoothNotAvailableError
    except ImportError:  # bleak before 1.1 has only text to go on
        return ()
    return (BleakBluetoothNotAvailableError,)


def _device_not_found() -> tuple[type[BaseException], ...]:
    try:
        # optional hardware: bleak is imported only where a radio is used
        from bleak.exc import BleakDeviceNotFoundError
    except ImportError:  # pragma: no cover - bleak 0.22 already has it
        return ()
    return (BleakDeviceNotFoundError,)


def _unavailable(exc: BaseException, adapter: str) -> BleUnavailable | None:
    """Recognise 'BLE cannot work here' failures among bleak/D-Bus errors.

    A button that is not advertising (BleakDeviceNotFoundError, "Device ... was not found") is
    not one of them: that is one button away, and the others must go on.
    """
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, _device_not_found()):
        return None
    if isinstance(exc, _bleak_not_available()):
        reason = text
    elif isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        reason = "BlueZ is not reachable on the system D-Bus"
    elif isinstance(exc, PermissionError):
        reason = "no permission to talk to BlueZ over D-Bus"
    elif any(m in text for m in _ADAPTER_TEXTS) or (
        "adapter" in text.lower() and "not found" in text
    ):
        reason = text
    else:
        return None
    return BleUnavailable(f"Bluetooth LE unavailable on {adapter} ({reason}): {ADAPTER_HINT}")


_SERVICES = {SERVICE_UUID, twist_protocol.SERVICE_UUID}


async def scan_flic2(adapter: str, seconds: float) -> list[str]:
    """Addresses of advertising Flic 2, Duo and Twist buttons, strongest signal first."""
    try:
        # optional hardware: bleak is imported only where a radio is used
        from bleak import BleakScanner
    except ImportError as exc:  # pragma: no cover - bleak is a dependency
        raise BleUnavailable(f"bleak is not installed: {ADAPTER_HINT}") from exc
    try:
        found = await BleakScanner.discover(
            timeout=seconds, return_adv=True, bluez={"adapter": adapter}
        )
    except Exception as exc:
        raise _unavailable(exc, adapter) or SourceError(f"scan failed: {exc}") from exc
    flic = [
        (adv.rssi, device.address.lower())
        for device, adv in found.values()
        if _SERVICES & {u.lower() for u in adv.service_uuids}
        or MANUFACTURER_ID in adv.manufacturer_data
    ]
    return [address for _, address in sorted(flic, reverse=True)]


class BleakTransport:
    """The BLE link through bleak on BlueZ.

    `connect` first waits for the button's advertisement (bleak's detection callback, through
    `find_device_by_address`), then connects the way Home Assistant does, with
    bleak-retry-connector's `establish_connection` and its GATT service cache.
    """

    def __init__(
        self,
        adapter: str = "hci0",
        *,
        connect_timeout_s: float = 20.0,
        advert_wait_s: float = ADVERT_WAIT_S,
    ) -> None:
        self.adapter = adapter
        self.att_mtu = MIN_ATT_MTU
        self.twist = False
        self._write_uuid = WRITE_UUID
        self._timeout_s = connect_timeout_s
        self._advert_wait_s = advert_wait_s
        self._client: Any = None
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._with_response = False

    async def _advertising(self, address: str) -> Any:
        # optional hardware: bleak is imported only where a radio is used
        from bleak import BleakScanner

        try:
            device = await BleakScanner.find_device_by_address(
                address, timeout=self._advert_wait_s, bluez={"adapter": self.adapter}
            )
        except Exception as exc:
            raise _unavailable(exc, self.adapter) or SourceError(
                f"cannot scan for Flic 2 {address}: {exc}"
            ) from exc
        if device is None:
            raise ButtonNotAdvertising(
                f"{address} is not advertising (out of range, flat battery, or connected to "
                f"another phone or hub); waited {self._advert_wait_s:.0f} s"
            )
        return device

    async def connect(self, address: str) -> None:
        try:
            # optional hardware: bleak is imported only where a radio is used
            from bleak_retry_connector import BleakClientWithServiceCache, establish_connection
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise BleUnavailable(f"bleak is not installed: {ADAPTER_HINT}") from exc
        device = await self._advertising(address)
        client: Any = None
        try:
            client = await establish_connection(
                BleakClientWithServiceCache,
                device,
                f"Flic 2 {address}",
                disconnected_callback=lambda _client: self._queue.put_nowait(None),
                max_attempts=3,
                timeout=self._timeout_s,
            )
            # A Twist has its own service; every other Flic speaks the Flic 2 one.
            twist = client.services.get_service(twist_protocol.SERVICE_UUID) is not None
            notify, write = (
                (twist_protocol.NOTIFY_UUID, twist_protocol.WRITE_UUID)
                if twist
                else (NOTIFY_UUID, WRITE_UUID)
            )
            await client.start_notify(notify, self._on_notify)
            char = client.services.get_characteristic(write)
        except Exception as exc:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.disconnect()
            raise _unavailable(exc, self.adapter) or SourceError(
                f"cannot connect to Flic 2 {address}: {exc}"
            ) from exc
        if char is None:
            await client.disconnect()
            raise SourceError(f"{address} has no Flic 2 service: is it a Flic 2?")
        self.twist, self._write_uuid = twist, write
        self._with_response = "write-without-response" not in char.properties
        self.att_mtu = max(MIN_ATT_MTU, min(MAX_ATT_MTU, char.max_write_without_response_size + 3))
        self._client = client

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        self._queue.put_nowait(bytes(data))

    async def write(self, data: bytes) -> None:
        if self._client is None:
            raise SourceError("not connected")
        try:
            # A packet longer than one ATT write (a Twist's init) goes as a long write.
            response = self._with_response or len(data) > self.att_mtu - 3
            await self._client.write_gatt_char(self._write_uuid, data, response=response)
        except Exception as exc:
            raise SourceError(f"write to the button failed: {exc}") from exc

    async def notifications(self) -> AsyncIterator[bytes]:
        while (frame := await self._queue.get()) is not None:
            yield frame

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
        self._queue.put_nowait(None)
