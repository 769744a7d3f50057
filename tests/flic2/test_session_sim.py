"""The sans-I/O session against the simulated button: pairing, reconnects, presses, attacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge.flic2 import (
    Battery,
    Flic2Session,
    GenuineCheckError,
    MacMismatchError,
    NotPairableError,
    Paired,
    Pairing,
    PairingUnknownError,
    Press,
    QueueDrained,
    SessionEvent,
    Verified,
)
from bridge.flic2.crypto import signature_variant
from bridge.flic2.frames import MAX_PACKET_LEN, Reassembler, fragment
from bridge.models import ClickType
from tests.flic2.conftest import ADDRESS
from tests.flic2.sim_button import SimButton

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
C = ClickType


class Wire:
    """Connects one session to the simulated button, synchronously."""

    def __init__(self, button: SimButton, session: Flic2Session, mtu: int = 23) -> None:
        self.button = button
        self.session = session
        self.inbox: list[bytes] = []
        button.connect(mtu)
        button.send = self.inbox.append
        session.start()

    def pump(self, now: datetime = NOW) -> list[SessionEvent]:
        """Exchange frames until both sides are quiet; return the session's events."""
        events: list[SessionEvent] = []
        while True:
            writes = self.session.take_writes()
            for frame in writes:
                self.button.receive(frame)
            if not writes and not self.inbox:
                return events
            frames, self.inbox[:] = list(self.inbox), []
            for frame in frames:
                events += self.session.receive(frame, now)


def feed_all(session: Flic2Session, frames: list[bytes]) -> list[SessionEvent]:
    return [event for frame in frames for event in session.receive(frame, NOW)]


def presses(events: list[SessionEvent]) -> list[ClickType]:
    return [e.click_type for e in events if isinstance(e, Press)]


def pair(button: SimButton, verify_key: bytes) -> Pairing:
    button.hold_for_pairing()
    wire = Wire(button, Flic2Session(ADDRESS, verify_key=verify_key))
    events = wire.pump()
    button.disconnect()
    assert any(isinstance(e, Paired) for e in events)
    assert wire.session.pairing is not None
    return wire.session.pairing


def test_pairing_agrees_on_keys_and_reads_the_button(button: SimButton, verify_key: bytes) -> None:
    button.hold_for_pairing()
    wire = Wire(button, Flic2Session(ADDRESS, verify_key=verify_key))
    events = wire.pump()
    paired = [e for e in events if isinstance(e, Paired)]
    assert len(paired) == 1
    pairing = paired[0].pairing
    assert button.pairings == {pairing.pairing_id: pairing.pairing_key}
    assert (pairing.name, pairing.serial_number) == ("front-desk", "SIM-000001")
    assert paired[0].battery_mv == 2988
    assert any(isinstance(e, QueueDrained) for e in events)
    assert wire.session.pairing is not None
    assert wire.session.pairing.boot_id == button.boot_id
    # The 117-byte FullVerifyResponse1 crossed a 23-byte MTU as six fragments.
    assert sum(1 for f in button.sent if f[0] & 0x80) >= 5


def test_pairing_needs_the_7_second_hold(button: SimButton, verify_key: bytes) -> None:
    wire = Wire(button, Flic2Session(ADDRESS, verify_key=verify_key))
    with pytest.raises(NotPairableError, match="hold it for 7 seconds"):
        wire.pump()
    assert button.pairings == {}


def test_production_accepts_only_the_vendor_key(button: SimButton) -> None:
    button.hold_for_pairing()
    wire = Wire(button, Flic2Session(ADDRESS))  # default: the vendor's key
    with pytest.raises(GenuineCheckError, match="not a genuine Flic 2"):
        wire.pump()
    assert button.pairings == {}


def test_a_button_with_another_address_is_refused(
    factory_key: Ed25519PrivateKey, verify_key: bytes
) -> None:
    impostor = SimButton("80:e4:da:00:00:01", factory_key)
    impostor.hold_for_pairing()
    wire = Wire(impostor, Flic2Session(ADDRESS, verify_key=verify_key))
    with pytest.raises(GenuineCheckError, match="another Bluetooth address"):
        wire.pump()


def test_signature_variant_search(factory_key: Ed25519PrivateKey, verify_key: bytes) -> None:
    message = b"\x45\x23\x71\xda\xe4\x80\x00" + bytes(32)
    signature = factory_key.sign(message)
    true_bits = signature[32] & 3
    for bits in range(4):
        sent = bytearray(signature)
        sent[32] = (sent[32] & 0xFC) | bits
        assert signature_variant(verify_key, bytes(sent), message) == true_bits
    assert signature_variant(verify_key, signature, message[:-1] + b"\x01") is None


def test_quick_verify_reconnect_then_each_kind_of_press(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    events = wire.pump()
    assert isinstance(events[0], Verified)
    assert [e.millivolt for e in events if isinstance(e, Battery)] == [2988]
    button.press("single")
    assert presses(wire.pump()) == [C.DOWN, C.UP, C.CLICK, C.SINGLE]
    button.press("double")
    assert presses(wire.pump()) == [C.DOWN, C.UP, C.CLICK, C.DOWN, C.UP, C.CLICK, C.DOUBLE]
    button.press("hold")
    assert presses(wire.pump()) == [C.DOWN, C.HOLD, C.UP]
    assert wire.session.pairing is not None
    assert wire.session.pairing.event_count == button.event_count
    # Single, double and a hold's release (code 14: held, click type known) each end a click,
    # and the vendor's module acknowledges all three. (This test once expected [4, 11]: the
    # simulator released holds as code 12, which no real button sends.)
    assert button.acks == [4, 11, 15]


def test_ping_is_answered(button: SimButton, verify_key: bytes) -> None:
    wire = Wire(button, Flic2Session(ADDRESS, pair(button, verify_key), verify_key=verify_key))
    wire.pump()
    button.received_opcodes.clear()
    button.ping()
    wire.pump()
    assert button.received_opcodes == [14]


def test_queued_presses_come_with_their_real_press_time(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    button.press("single")
    button.tick(10.0)
    button.press("hold")
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    events = wire.pump(NOW)
    queued = [e for e in events if isinstance(e, Press) and e.click_type in (C.SINGLE, C.HOLD)]
    assert [(e.click_type, e.queued) for e in queued] == [(C.SINGLE, True), (C.HOLD, True)]
    # single's timeout item was 10 s + the hold's 1.4 s before init; the hold itself 0.3 s.
    assert queued[0].age_s == pytest.approx(11.4, abs=0.001)
    assert queued[1].age_s == pytest.approx(0.3, abs=0.001)
    assert queued[0].pressed_at == NOW - timedelta(seconds=queued[0].age_s)
    assert any(isinstance(e, QueueDrained) for e in events)


def test_corrupted_mac_is_rejected(button: SimButton, verify_key: bytes) -> None:
    wire = Wire(button, Flic2Session(ADDRESS, pair(button, verify_key), verify_key=verify_key))
    wire.pump()
    button.corrupt_next_mac = True
    button.press("single")
    with pytest.raises(MacMismatchError):
        wire.pump()


def test_replayed_frames_from_an_earlier_session_are_rejected(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    first = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    first.pump()
    sent_before = len(button.sent)
    button.press("double")
    assert C.DOUBLE in presses(first.pump())
    captured = button.sent[sent_before:]
    assert first.session.pairing is not None
    button.disconnect()
    second = Wire(button, Flic2Session(ADDRESS, first.session.pairing, verify_key=verify_key))
    second.pump()
    # As captured, the frames name the old logical connection: ignored.
    assert feed_all(second.session, captured) == []
    # Rewritten to the new connection id, they fail the MAC (new key, new counters).
    assert button.link is not None
    conn_id = button.link.conn_id
    rewritten = [bytes([(frame[0] & 0xE0) | conn_id]) + frame[1:] for frame in captured]
    with pytest.raises(MacMismatchError):
        feed_all(second.session, rewritten)


def test_events_already_delivered_are_not_delivered_again(
    button: SimButton, verify_key: bytes
) -> None:
    pairing = pair(button, verify_key)
    first = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    first.pump()
    button.press("hold")  # never acknowledged: the button keeps it
    assert presses(first.pump()) == [C.DOWN, C.HOLD, C.UP]
    assert first.session.pairing is not None
    button.disconnect()
    button.resend_all_unacked = True
    second = Wire(button, Flic2Session(ADDRESS, first.session.pairing, verify_key=verify_key))
    assert presses(second.pump()) == []
    button.press("single")
    assert presses(second.pump()) == [C.DOWN, C.UP, C.CLICK, C.SINGLE]


def test_a_forgotten_pairing_says_to_pair_again(button: SimButton, verify_key: bytes) -> None:
    pairing = pair(button, verify_key)
    button.pairings.clear()  # factory reset
    wire = Wire(button, Flic2Session(ADDRESS, pairing, verify_key=verify_key))
    with pytest.raises(PairingUnknownError, match="pair --ble"):
        wire.pump()


@pytest.mark.parametrize("mtu", [23, 24, 50, 130])
def test_fragments_reassemble_at_any_mtu(mtu: int) -> None:
    packet = bytes(range(MAX_PACKET_LEN))
    frames = fragment(packet, 3, mtu)
    assert all(len(f) <= mtu - 3 for f in frames)
    joiner = Reassembler()
    results = [joiner.feed(f) for f in frames]
    assert results[:-1] == [None] * (len(frames) - 1)
    done = results[-1]
    assert done is not None
    assert done.packet == packet
    assert done.header.conn_id == 3


def test_a_packet_over_128_bytes_is_dropped() -> None:
    joiner = Reassembler()
    first = bytes([0x83]) + bytes(100)
    second = bytes([0x03]) + bytes(29)
    assert joiner.feed(first) is None
    assert joiner.feed(second) is None
    assert joiner.dropped == 1
    assert joiner.feed(bytes([0x03, 0x0F])) is not None  # the next packet is fine
