"""The protocol primitives against numbers computed with the vendor's C module (see vectors/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import bridge.flic2 as flic2
from bridge.flic2 import Flic2Session, Press, crypto
from bridge.models import ClickType

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


FACTS_KEY = bytes(range(16))
FACTS_MACS = [(1, "223d39b90f"), (5, "6deaa85103"), (16, "706025695e"), (17, "81474ae801")]


@pytest.mark.parametrize(("length", "expected"), FACTS_MACS)
def test_mac_matches_the_four_published_vectors(length: int, expected: str) -> None:
    data = bytes(0xA0 + i for i in range(length))
    assert flic2.chaskey_mac(FACTS_KEY, 0, 0, data).hex() == expected


def test_chaskey16_matches_the_published_vector() -> None:
    block = bytes(range(0x10, 0x20))
    assert flic2.chaskey16(FACTS_KEY, block).hex() == "93c79cf91d3befcecb336f36d13b3f81"


def test_mac_matches_every_vector_from_the_c_module() -> None:
    vectors = _load("chaskey.json")["mac"]
    lengths = {len(v["data"]) // 2 for v in vectors}
    assert len(vectors) > 300
    assert {0, 15, 16, 17, 32, 33, 123} <= lengths
    wrong = [
        v
        for v in vectors
        if flic2.chaskey_mac(
            bytes.fromhex(v["key"]), v["direction"], v["counter"], bytes.fromhex(v["data"])
        ).hex()
        != v["mac"]
    ]
    assert wrong == []


def test_chaskey16_matches_every_vector_from_the_c_module() -> None:
    for v in _load("chaskey.json")["chaskey16"]:
        got = flic2.chaskey16(bytes.fromhex(v["key"]), bytes.fromhex(v["block"]))
        assert got.hex() == v["out"]


@pytest.mark.parametrize("index", range(4))
def test_full_verify_derivations_match_the_c_module(index: int) -> None:
    v = _load("derivation.json")["full_verify"][index]
    private, public = crypto.x25519_keypair(bytes.fromhex(v["client_secret"]))
    assert public.hex() == v["client_public"]
    shared = crypto.shared_secret(private, bytes.fromhex(v["button_public"]))
    assert shared.hex() == v["shared_secret"]
    secret = crypto.full_verify_secret(
        shared,
        v["signature_variant"],
        bytes.fromhex(v["button_random"]),
        bytes.fromhex(v["client_random"]),
    )
    assert secret.hex() == v["full_verify_secret"]
    keys = crypto.derive_full_verify_keys(secret)
    assert keys.verifier.hex() == v["hmac_at"][:32]
    assert keys.session_key.hex() == v["hmac_sk"][:32]
    pk = bytes.fromhex(v["hmac_pk"])
    assert keys.pairing_id == int.from_bytes(pk[:4], "little")
    assert keys.pairing_key == pk[4:20]


@pytest.mark.parametrize("index", range(4))
def test_quick_verify_session_key_matches_the_c_module(index: int) -> None:
    v = _load("derivation.json")["quick_verify_keys"][index]
    key = crypto.quick_verify_session_key(
        bytes.fromhex(v["pairing_key"]),
        bytes.fromhex(v["client_random"]),
        bytes.fromhex(v["button_random"]),
    )
    assert key.hex() == v["session_key"]


# (class, type) of the C module's events that have a ClickType; the others are other views.
C_TO_CLICK = {
    (0, 0): ClickType.UP,
    (0, 1): ClickType.DOWN,
    (1, 2): ClickType.CLICK,
    (3, 3): ClickType.SINGLE,
    (3, 4): ClickType.DOUBLE,
    (3, 5): ClickType.HOLD,
}


def test_session_writes_and_decodes_exactly_like_the_c_module() -> None:
    v = _load("quick_verify_session.json")
    raw = bytes.fromhex(v["pairing"])
    pairing = flic2.Pairing(
        address=v["address"],
        pairing_id=int.from_bytes(raw[:4], "little"),
        pairing_key=raw[4:20],
        event_count=v["event_count"],
        boot_id=v["boot_id"],
    )
    steps = v["steps"]
    first = bytes.fromhex(steps[0]["frame"])
    stream = iter([first[2:9] + first[10:14]])  # the C module's 7 random bytes and tmp id
    # The C module predates the Duo and sends flags 0 where pyflic-ble sends "supports Duo".
    session = Flic2Session(
        v["address"],
        pairing,
        random=lambda n: next(stream)[:n],
        att_mtu=130,
        supports_duo=False,
    )
    session.start()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    my_writes = [w.hex() for w in session.take_writes()]
    my_presses: list[tuple[str, int, bool, float]] = []
    for step in steps:
        if step.get("dir") == "from_button":
            for event in session.receive(bytes.fromhex(step["frame"]), now):
                if isinstance(event, Press):
                    my_presses.append(
                        (event.click_type, event.event_count, event.queued, event.age_s)
                    )
            my_writes += [w.hex() for w in session.take_writes()]
    c_writes = [s["frame"] for s in steps if s.get("dir") == "to_button"]
    c_presses = [
        (C_TO_CLICK[(b["class"], b["type"])], b["event_count"], bool(b["was_queued"]), b["age"])
        for s in steps
        if (b := s.get("button_event")) and (b["class"], b["type"]) in C_TO_CLICK
    ]
    assert my_writes == c_writes
    assert [p[:3] for p in my_presses] == [p[:3] for p in c_presses]
    assert [p[3] for p in my_presses] == pytest.approx([p[3] for p in c_presses], abs=1e-6)
    assert session.pairing is not None
    assert session.pairing.event_count == v["final_event_count"]
