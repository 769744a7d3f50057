"""A NOTIFY_SOCKET the test owns: what the service manager would receive."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from tests.support.procs import wait_until


class NotifySocket:
    """A bound AF_UNIX datagram socket collecting sd_notify messages."""

    def __init__(self) -> None:
        # A short directory: socket paths are limited to 107 bytes and tmp_path can be longer.
        self._dir = Path(tempfile.mkdtemp(prefix="ntfy-", dir="/tmp"))
        self.path = str(self._dir / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        """Read everything waiting; each datagram may hold several KEY=value lines."""
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                break
            self.messages.extend(data.decode().split("\n"))
        return self.messages

    def count(self, line: str) -> int:
        return self.drain().count(line)

    def wait_for(self, line: str, times: int = 1, timeout: float = 20.0) -> None:
        wait_until(
            lambda: self.count(line) >= times,
            timeout=timeout,
            what=f"{times}x {line!r} on NOTIFY_SOCKET (got {self.messages[-8:]})",
        )

    def close(self) -> None:
        self.sock.close()
        os.unlink(self.path)
        self._dir.rmdir()
