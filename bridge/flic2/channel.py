"""The sending half of a Flic 2 session: fragmenting, signing, and at most a few requests out."""

from __future__ import annotations

import hmac
from collections import deque

from bridge.flic2.chaskey import ChaskeyKeys, mac_with_keys
from bridge.flic2.errors import MacMismatchError
from bridge.flic2.frames import fragment
from bridge.flic2.handshake import MAX_OUTSTANDING_REQUESTS
from bridge.flic2.packets import MAC_LEN


class SignedChannel:
    """Frames to write, the session MAC counters both ways, and the request window."""

    def __init__(self, address: str, att_mtu: int) -> None:
        self.address = address
        self._att_mtu = att_mtu
        self._conn_id = 0
        self._writes: list[bytes] = []
        self._keys: ChaskeyKeys | None = None
        self._tx = 0
        self._rx = 0
        self._outstanding = 0
        self._pending_requests: deque[bytes] = deque()

    def take_writes(self) -> list[bytes]:
        """Frames to write to the button, in order."""
        writes, self._writes = self._writes, []
        return writes

    def _send_plain(self, packet: bytes) -> None:
        self._writes.extend(fragment(packet, self._conn_id, self._att_mtu))

    def _send_signed(self, packet: bytes) -> None:
        assert self._keys is not None
        tag = mac_with_keys(self._keys, 1, self._tx, packet)
        self._tx += 1
        self._send_plain(packet + tag)

    def _request(self, packet: bytes) -> None:
        self._pending_requests.append(packet)
        self._release_requests()

    def _release_requests(self) -> None:
        while self._pending_requests and self._outstanding < MAX_OUTSTANDING_REQUESTS:
            self._outstanding += 1
            self._send_signed(self._pending_requests.popleft())

    def _answered(self) -> None:
        self._outstanding = max(0, self._outstanding - 1)
        self._release_requests()

    def _check_mac(self, packet: bytes) -> bytes:
        assert self._keys is not None
        expected = mac_with_keys(self._keys, 0, self._rx, packet[:-MAC_LEN])
        self._rx += 1
        if not hmac.compare_digest(expected, packet[-MAC_LEN:]):
            raise MacMismatchError(
                f"packet opcode {packet[0]} from {self.address} failed its MAC check"
            )
        return packet[:-MAC_LEN]
