"""The hub module on real Duktape and on Node, over one scenario (tests/hub/sim/es5/): both
must send the same requests in the same order, every body must be UTF-8 bytes, and the
bridge's receiver must take every body and make the presses a user made of them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bridge.models import ButtonSeen, ClickType, RawClick
from bridge.sources.base import Accepted
from bridge.sources.hub.receiver import HubReceiver
from tests.hub.engines import Request, bundle, run_scenario

KITCHEN = "80:e4:da:71:23:45"
LOBBY = "80:e4:da:71:99:01"
STORE = "80:e4:da:71:00:03"
SERIAL = "LR0A1B2C3D"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Request]]:
    script = tmp_path_factory.mktemp("hub-engines") / "bundle.js"
    script.write_text(bundle(), encoding="utf-8")
    return {engine: run_scenario(engine, script) for engine in ("duk", "node")}


def _first_difference(a: list[Request], b: list[Request]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"request {i}:\n duk  {x}\n node {y}"
    return f"duk made {len(a)} requests, node {len(b)}"


def test_duktape_and_node_send_the_same_requests_in_the_same_order(
    runs: dict[str, list[Request]],
) -> None:
    duk, node = runs["duk"], runs["node"]
    assert duk == node, _first_difference(duk, node)
    assert len(duk) >= 10


@pytest.mark.parametrize("engine", ["duk", "node"])
def test_every_body_is_utf8_and_pure_ascii_json(
    runs: dict[str, list[Request]], engine: str
) -> None:
    for i, request in enumerate(runs[engine]):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = request.body[max(0, exc.start - 20) : exc.end + 20]
            pytest.fail(f"{engine} request {i} is not UTF-8 at byte {exc.start}: {bad!r}")
        assert request.body.isascii(), f"{engine} request {i}: {text[:200]}"
        assert isinstance(json.loads(text), dict)


class _Collector:
    def __init__(self) -> None:
        self.clicks: list[RawClick] = []

    async def accept(self, raw: RawClick) -> Accepted:
        assert raw.event_id is not None
        duplicate = any(c.event_id == raw.event_id for c in self.clicks)
        self.clicks.append(raw)
        return Accepted(event_id=raw.event_id, duplicate=duplicate)

    def observe(self, seen: ButtonSeen) -> None:
        del seen


def _received(requests: list[Request]) -> tuple[list[RawClick], list[int]]:
    """Every request the bridge answered 202 in the scenario, fed to the real receiver."""
    collector = _Collector()
    clock = {"at": datetime.now(UTC)}
    receiver = HubReceiver(collector.accept, collector.observe, lambda: clock["at"])
    statuses = []
    for request in requests:
        if request.answer != 202:
            continue
        clock["at"] = datetime.fromtimestamp(request.at_ms / 1000, tz=UTC)
        status, _ = asyncio.run(receiver.handle(request.body))
        statuses.append(status)
    return collector.clicks, statuses


def test_the_bridge_takes_every_body_and_gets_every_press_once_in_order(
    runs: dict[str, list[Request]],
) -> None:
    requests = runs["duk"]
    clicks, statuses = _received(requests)
    assert statuses == [202] * len(statuses)
    got = [(c.address, c.click_type) for c in clicks]
    assert got == [
        (KITCHEN, ClickType.SINGLE),
        (LOBBY, ClickType.DOUBLE),
        (STORE, ClickType.HOLD),
        (KITCHEN, ClickType.HOLD),  # pressed during the outage, sent after the reboot
        (LOBBY, ClickType.SINGLE),  # the same
        (KITCHEN, ClickType.SINGLE),
    ]
    assert len({c.event_id for c in clicks}) == len(clicks)
    names = {c.address: c.name_hint for c in clicks}
    assert names == {
        KITCHEN: "K\u00fcche \U0001f600",
        LOBBY: "x" * 99,
        STORE: "Lager \ufffd T\u00fcr",
    }


def test_a_queued_press_keeps_its_real_time_and_age(runs: dict[str, list[Request]]) -> None:
    requests = [r for r in runs["duk"] if r.answer == 202]
    bodies = [(r, json.loads(r.body)) for r in requests]
    queued = [(r, b) for r, b in bodies if b.get("queued")]
    assert len(queued) == 1
    request, body = queued[0]
    assert body["queued_s"] == 12
    received_at = datetime.fromtimestamp(request.at_ms / 1000, tz=UTC)
    assert datetime.fromisoformat(body["pressed_at"]) == received_at - timedelta(seconds=12)
    clicks, _ = _received(runs["duk"])
    lobby_double = [c for c in clicks if c.click_type is ClickType.DOUBLE]
    assert [(c.queued, c.queued_s) for c in lobby_double] == [(True, 12.0)]


def test_presses_waiting_at_a_reboot_go_out_after_it_with_their_ids(
    runs: dict[str, list[Request]],
) -> None:
    requests = runs["duk"]
    failed_ids = {json.loads(r.body)["event_id"] for r in requests if r.answer != 202}
    assert len(failed_ids) == 1, "during the outage one press is tried at a time"
    delivered = [json.loads(r.body) for r in requests if r.answer == 202]
    clicks = [b for b in delivered if b["type"] == "click"]
    assert failed_ids <= {b["event_id"] for b in clicks[3:5]}
    boots = {b["event_id"].rsplit("-", 1)[0] for b in clicks}
    assert len(boots) == 2, "the last press was made after the reboot, under a new boot tag"
    assert all(b["hub_id"] == SERIAL for b in delivered), "hubId defaults to the serial number"
