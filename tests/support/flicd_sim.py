"""A simulated flicd: an asyncio TCP server speaking flicd's documented client protocol.

Written from ProtocolDocumentation.md (fliclib-linux-hci): little-endian framing with a uint16
length, byte-reversed Bluetooth addresses, every press reported in all four button-event
classes, queued presses with `was_queued` and `time_diff`, battery listeners, the scan wizard,
Ping. Outgoing bytes can be split at every byte boundary; the server can stop and restart.
`SimThread` runs it on its own thread for tests that block (subprocess tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# Commands (client -> server)
CMD_GET_INFO, CMD_CREATE_SCANNER, CMD_REMOVE_SCANNER = 0, 1, 2
CMD_CREATE_CONN_CHANNEL, CMD_REMOVE_CONN_CHANNEL, CMD_FORCE_DISCONNECT = 3, 4, 5
CMD_CHANGE_MODE, CMD_PING, CMD_GET_BUTTON_INFO = 6, 7, 8
CMD_CREATE_SCAN_WIZARD, CMD_CANCEL_SCAN_WIZARD, CMD_DELETE_BUTTON = 9, 10, 11
CMD_CREATE_BATTERY_LISTENER, CMD_REMOVE_BATTERY_LISTENER = 12, 13

# Events (server -> client)
EVT_CREATE_CONN_CHANNEL_RESPONSE, EVT_CONNECTION_STATUS_CHANGED = 1, 2
EVT_CONN_CHANNEL_REMOVED = 3
EVT_UP_OR_DOWN, EVT_CLICK_OR_HOLD, EVT_SINGLE_OR_DOUBLE, EVT_SINGLE_OR_DOUBLE_OR_HOLD = 4, 5, 6, 7
EVT_NEW_VERIFIED_BUTTON, EVT_GET_INFO_RESPONSE = 8, 9
EVT_BLUETOOTH_CONTROLLER_STATE = 12
EVT_PING_RESPONSE = 13
EVT_WIZARD_FOUND_PRIVATE, EVT_WIZARD_FOUND_PUBLIC = 15, 16
EVT_WIZARD_CONNECTED, EVT_WIZARD_COMPLETED = 17, 18
EVT_BATTERY_STATUS = 20

DOWN, UP, CLICK, SINGLE, DOUBLE, HOLD = 0, 1, 2, 3, 4, 5
DISCONNECTED, CONNECTED, READY = 0, 1, 2

_CMD_LAYOUTS = {
    CMD_CREATE_SCANNER: "<I",
    CMD_REMOVE_SCANNER: "<I",
    CMD_CREATE_CONN_CHANNEL: "<I6sBh",
    CMD_REMOVE_CONN_CHANNEL: "<I",
    CMD_FORCE_DISCONNECT: "<6s",
    CMD_CHANGE_MODE: "<IBh",
    CMD_PING: "<I",
    CMD_GET_BUTTON_INFO: "<6s",
    CMD_CREATE_SCAN_WIZARD: "<I",
    CMD_CANCEL_SCAN_WIZARD: "<I",
    CMD_DELETE_BUTTON: "<6s",
    CMD_CREATE_BATTERY_LISTENER: "<I6s",
    CMD_REMOVE_BATTERY_LISTENER: "<I",
}


def addr_to_wire(address: str) -> bytes:
    """'80:e4:da:71:23:45' -> the 6 bytes flicd sends (least significant byte first)."""
    return bytes(reversed(bytes.fromhex(address.replace(":", ""))))


def addr_from_wire(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in reversed(raw))


def packet(opcode: int, payload: bytes = b"") -> bytes:
    body = bytes([opcode]) + payload
    return struct.pack("<H", len(body)) + body


def fixed_string(text: str) -> bytes:
    """A length byte and 16 bytes of UTF-8 (zero padded), flicd's name field."""
    raw = text.encode()[:16]
    return bytes([len(raw)]) + raw.ljust(16, b"\0")


def press_packets(kind: str, conn_id: int, *, queued: bool, age_s: int) -> list[bytes]:
    """What flicd sends for one physical press on one channel: all four event classes."""

    def evt(opcode: int, click: int) -> bytes:
        return packet(opcode, struct.pack("<IBBI", conn_id, click, int(queued), age_s))

    down_up = [evt(EVT_UP_OR_DOWN, DOWN), evt(EVT_UP_OR_DOWN, UP)]
    if kind == "single":
        return [
            *down_up,
            evt(EVT_CLICK_OR_HOLD, CLICK),
            evt(EVT_SINGLE_OR_DOUBLE, SINGLE),
            evt(EVT_SINGLE_OR_DOUBLE_OR_HOLD, SINGLE),
        ]
    if kind == "double":
        return [
            *down_up,
            evt(EVT_CLICK_OR_HOLD, CLICK),
            *down_up,
            evt(EVT_CLICK_OR_HOLD, CLICK),
            evt(EVT_SINGLE_OR_DOUBLE, DOUBLE),
            evt(EVT_SINGLE_OR_DOUBLE_OR_HOLD, DOUBLE),
        ]
    if kind == "hold":
        return [
            evt(EVT_UP_OR_DOWN, DOWN),
            evt(EVT_CLICK_OR_HOLD, HOLD),
            evt(EVT_SINGLE_OR_DOUBLE, SINGLE),
            evt(EVT_SINGLE_OR_DOUBLE_OR_HOLD, HOLD),
            evt(EVT_UP_OR_DOWN, UP),
        ]
    raise ValueError(f"unknown press kind {kind!r}")


def whole(data: bytes) -> list[bytes]:
    return [data]


def every_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def split_at(offset: int) -> Callable[[bytes], list[bytes]]:
    """Split a write into two reads at `offset` (the boundary under test)."""

    def split(data: bytes) -> list[bytes]:
        return [data[:offset], data[offset:]] if 0 < offset < len(data) else [data]

    return split


@dataclass
class Channel:
    conn_id: int
    address: str


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    channels: dict[int, Channel] = field(default_factory=dict)
    battery_listeners: dict[int, str] = field(default_factory=dict)


@dataclass
class WizardScript:
    """What the next scan wizard finds: a private button first, then a public one that pairs."""

    address: str = "80:e4:da:70:00:01"
    name: str = "F2FAKE"
    result: int = 0  # WizardSuccess


class FlicdSim:
    """The simulated daemon; all methods run on its event loop."""

    def __init__(
        self, *, verified: Iterable[str] = (), chunker: Callable[[bytes], list[bytes]] = whole
    ) -> None:
        self.verified: list[str] = [a.lower() for a in verified]
        self.battery: dict[str, int] = {}
        self.chunker = chunker
        self.chunk_delay_s = 0.0005
        self.wizard = WizardScript()
        self.commands: list[tuple[int, tuple[Any, ...]]] = []
        self.port = 0
        self.controller_state = 2  # Attached
        self._server: asyncio.Server | None = None
        self._clients: list[_Client] = []
        self._write_lock = asyncio.Lock()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port or self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Go away like a killed daemon: listener closed, every client connection dropped."""
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.writer.close()
        self._clients.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start(self.port)

    def channels_for(self, address: str) -> list[tuple[_Client, Channel]]:
        return [
            (c, ch) for c in self._clients for ch in c.channels.values() if ch.address == address
        ]

    def has_channel(self, address: str) -> bool:
        return bool(self.channels_for(address.lower()))

    async def press(
        self, address: str, kind: str = "single", *, queued_s: int | None = None
    ) -> int:
        """One physical press, sent to every channel of the button; returns how many got it."""
        targets = self.channels_for(address.lower())
        for client, channel in targets:
            packets = press_packets(
                kind, channel.conn_id, queued=queued_s is not None, age_s=queued_s or 0
            )
            await self._send(client, b"".join(packets))
        return len(targets)

    async def send_raw(self, data: bytes) -> None:
        """Send bytes as they are to every client (events the client may not expect)."""
        for client in list(self._clients):
            await self._send(client, data)

    async def set_controller(self, state: int) -> None:
        """The Bluetooth adapter detaches (0), resets (1) or attaches again (2)."""
        self.controller_state = state
        for client in list(self._clients):
            await self._send(client, packet(EVT_BLUETOOTH_CONTROLLER_STATE, bytes([state])))

    async def set_battery(self, address: str, percentage: int) -> None:
        self.battery[address.lower()] = percentage
        for client in list(self._clients):
            for listener_id, addr in client.battery_listeners.items():
                if addr == address.lower():
                    await self._send(client, self._battery_packet(listener_id, addr))

    def _battery_packet(self, listener_id: int, address: str) -> bytes:
        return packet(
            EVT_BATTERY_STATUS, struct.pack("<Ibq", listener_id, self.battery.get(address, -1), 0)
        )

    async def _send(self, client: _Client, data: bytes) -> None:
        async with self._write_lock:
            try:
                chunks = self.chunker(data)
                for i, chunk in enumerate(chunks):
                    client.writer.write(chunk)
                    await client.writer.drain()
                    if len(chunks) > 1 and i < len(chunks) - 1:
                        await asyncio.sleep(self.chunk_delay_s)
            except (ConnectionError, RuntimeError):
                pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = _Client(writer)
        self._clients.append(client)
        try:
            while True:
                header = await reader.readexactly(2)
                (length,) = struct.unpack("<H", header)
                body = await reader.readexactly(length)
                if body:
                    await self._command(client, body[0], body[1:])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _command(self, client: _Client, opcode: int, payload: bytes) -> None:
        layout = _CMD_LAYOUTS.get(opcode)
        fields: tuple[Any, ...] = ()
        if layout is not None:
            size = struct.calcsize(layout)
            fields = struct.unpack(layout, payload[:size])  # newer clients may append bytes
        self.commands.append((opcode, fields))
        if opcode == CMD_GET_INFO:
            await self._send(client, self._info_packet())
        elif opcode == CMD_PING:
            await self._send(client, packet(EVT_PING_RESPONSE, struct.pack("<I", fields[0])))
        elif opcode == CMD_CREATE_CONN_CHANNEL:
            conn_id, raw_addr = fields[0], fields[1]
            address = addr_from_wire(raw_addr)
            client.channels[conn_id] = Channel(conn_id, address)
            out = packet(
                EVT_CREATE_CONN_CHANNEL_RESPONSE, struct.pack("<IBB", conn_id, 0, DISCONNECTED)
            )
            if address in self.verified:
                out += packet(
                    EVT_CONNECTION_STATUS_CHANGED, struct.pack("<IBB", conn_id, CONNECTED, 0)
                )
                out += packet(EVT_CONNECTION_STATUS_CHANGED, struct.pack("<IBB", conn_id, READY, 0))
            await self._send(client, out)
        elif opcode == CMD_REMOVE_CONN_CHANNEL:
            if client.channels.pop(fields[0], None) is not None:
                await self._send(
                    client, packet(EVT_CONN_CHANNEL_REMOVED, struct.pack("<IB", fields[0], 0))
                )
        elif opcode == CMD_CREATE_BATTERY_LISTENER:
            listener_id, address = fields[0], addr_from_wire(fields[1])
            client.battery_listeners[listener_id] = address
            await self._send(client, self._battery_packet(listener_id, address))
        elif opcode == CMD_REMOVE_BATTERY_LISTENER:
            client.battery_listeners.pop(fields[0], None)
        elif opcode == CMD_CREATE_SCAN_WIZARD:
            await self._wizard(client, fields[0])

    def _info_packet(self) -> bytes:
        head = struct.pack(
            "<B6sBBhBBH",
            self.controller_state,
            addr_to_wire("00:1a:7d:da:71:13"),
            0,
            128,
            -1,
            0,
            0,
            len(self.verified),
        )
        return packet(
            EVT_GET_INFO_RESPONSE, head + b"".join(addr_to_wire(a) for a in self.verified)
        )

    async def _wizard(self, client: _Client, wizard_id: int) -> None:
        script = self.wizard
        await self._send(client, packet(EVT_WIZARD_FOUND_PRIVATE, struct.pack("<I", wizard_id)))
        found = (
            struct.pack("<I", wizard_id) + addr_to_wire(script.address) + fixed_string(script.name)
        )
        await self._send(client, packet(EVT_WIZARD_FOUND_PUBLIC, found))
        await self._send(client, packet(EVT_WIZARD_CONNECTED, struct.pack("<I", wizard_id)))
        await self._send(
            client, packet(EVT_WIZARD_COMPLETED, struct.pack("<IB", wizard_id, script.result))
        )
        if script.result == 0 and script.address not in self.verified:
            self.verified.append(script.address)
            for other in list(self._clients):
                await self._send(
                    other, packet(EVT_NEW_VERIFIED_BUTTON, addr_to_wire(script.address))
                )


class SimThread:
    """A FlicdSim on its own thread and loop, driven with blocking calls."""

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="flicd-sim", daemon=True
        )
        self._thread.start()
        self.sim: FlicdSim = self.call(self._make(kwargs))

    @staticmethod
    async def _make(kwargs: dict[str, Any]) -> FlicdSim:
        return FlicdSim(**kwargs)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self, port: int = 0) -> int:
        return self.call(self.sim.start(port))

    def stop(self) -> None:
        self.call(self.sim.stop())

    def restart(self) -> None:
        self.call(self.sim.restart())

    def press(self, address: str, kind: str = "single", *, queued_s: int | None = None) -> int:
        return self.call(self.sim.press(address, kind, queued_s=queued_s))

    def has_channel(self, address: str) -> bool:
        async def check() -> bool:
            return self.sim.has_channel(address)

        return self.call(check())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self.sim.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
