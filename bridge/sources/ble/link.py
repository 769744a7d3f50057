"""A Flic 2 or Flic Twist session running over a connected transport."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from bridge.errors import SourceError
from bridge.flic2 import Flic2Session, Pairing, TwistSession
from bridge.flic2.handshake import State
from bridge.sources.ble.transport import BleTransport

Session = Flic2Session | TwistSession


def new_session(
    address: str,
    pairing: Pairing | None,
    transport: BleTransport,
    *,
    verify_key: bytes,
    twist_verify_key: bytes,
    random: Callable[[int], bytes] = os.urandom,
) -> Session:
    """The session the connected device speaks: the Twist has its own service and protocol."""
    if transport.twist:
        return TwistSession(
            address, pairing, verify_key=twist_verify_key, random=random, att_mtu=transport.att_mtu
        )
    return Flic2Session(
        address, pairing, verify_key=verify_key, random=random, att_mtu=transport.att_mtu
    )


class SessionLink:
    """A session running over a connected transport."""

    def __init__(self, transport: BleTransport, session: Session, timeout_s: float) -> None:
        self.transport = transport
        self.session = session
        self._frames = transport.notifications()
        self._timeout_s = timeout_s
        self._next: asyncio.Future[bytes] | None = None

    async def flush(self) -> None:
        try:
            for frame in self.session.take_writes():
                await self.transport.write(frame)
        except SourceError as exc:
            raise SourceError(f"lost the Bluetooth link to {self.session.address}: {exc}") from exc

    async def next_frame(self, idle_s: float | None = None) -> bytes | None:
        """The next frame; None when the link is gone; b"" after `idle_s` without one."""
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._frames))
        ready = self.session.state is State.READY
        done, _ = await asyncio.wait({self._next}, timeout=idle_s if ready else self._timeout_s)
        if not done:
            if ready:
                return b""
            raise SourceError(f"{self.session.address} did not complete verify in time")
        finished, self._next = self._next, None
        try:
            return finished.result()
        except StopAsyncIteration:
            return None

    def close(self) -> None:
        if self._next is not None:
            self._next.cancel()
