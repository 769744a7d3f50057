"""The one-byte frame header, fragmentation of outgoing packets and reassembly of incoming ones."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PACKET_LEN = 128  # a reassembled packet never exceeds this
MIN_ATT_MTU = 23
MAX_ATT_MTU = 130
_CONN_ID_MASK = 0x1F
_NEWLY_ASSIGNED = 0x20
_MORE_FRAGMENTS = 0x80


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """Header byte: connection id (bits 0-4), newly assigned (bit 5), more fragments (bit 7)."""

    conn_id: int
    newly_assigned: bool = False
    more_fragments: bool = False

    def to_byte(self) -> int:
        """Encode as the header byte."""
        value = self.conn_id & _CONN_ID_MASK
        if self.newly_assigned:
            value |= _NEWLY_ASSIGNED
        if self.more_fragments:
            value |= _MORE_FRAGMENTS
        return value

    @classmethod
    def from_byte(cls, value: int) -> FrameHeader:
        """Decode a header byte."""
        return cls(
            conn_id=value & _CONN_ID_MASK,
            newly_assigned=bool(value & _NEWLY_ASSIGNED),
            more_fragments=bool(value & _MORE_FRAGMENTS),
        )


def fragment(packet: bytes, conn_id: int, att_mtu: int) -> list[bytes]:
    """Split a packet into frames that fit one ATT write (MTU minus 3 bytes of ATT header)."""
    if not packet:
        raise ValueError("cannot send an empty packet")
    mtu = max(MIN_ATT_MTU, min(att_mtu, MAX_ATT_MTU))
    chunk = mtu - 4  # ATT header (3) + our frame header (1)
    frames = []
    for start in range(0, len(packet), chunk):
        part = packet[start : start + chunk]
        more = start + chunk < len(packet)
        frames.append(bytes([FrameHeader(conn_id, more_fragments=more).to_byte()]) + part)
    return frames


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A complete packet and the header of its last frame."""

    header: FrameHeader
    packet: bytes


class Reassembler:
    """Joins fragments into packets; an oversized packet is dropped, as the vendor's code does."""

    def __init__(self) -> None:
        self._parts = bytearray()
        self.dropped = 0

    def feed(self, frame: bytes) -> Reassembled | None:
        """Add one frame; return the packet once its last fragment has arrived."""
        if len(frame) < 2:
            self.dropped += 1
            return None
        header = FrameHeader.from_byte(frame[0])
        if len(self._parts) + len(frame) - 1 > MAX_PACKET_LEN:
            self._parts.clear()
            self.dropped += 1
            return None
        self._parts += frame[1:]
        if header.more_fragments:
            return None
        packet = bytes(self._parts)
        self._parts.clear()
        return Reassembled(header, packet)

    def reset(self) -> None:
        """Forget a partial packet (on disconnect)."""
        self._parts.clear()
