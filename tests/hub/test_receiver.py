"""The bridge's hub receiver: clicks into the outbox seam, heartbeats into the status."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.models import ButtonSeen, ClickType, RawClick
from bridge.sources.base import Accepted
from bridge.sources.hub.receiver import MAX_HUBS, HubReceiver, authorized

T0 = datetime(2026, 11, 26, 7, 0, 0, tzinfo=UTC)
ADDRESS = "80:e4:da:71:23:45"


@dataclass
class Clock:
    now_at: datetime = T0

    def now(self) -> datetime:
        return self.now_at

    def advance(self, seconds: float) -> None:
        self.now_at += timedelta(seconds=seconds)


@dataclass
class FakeRuntime:
    """Stands in for the runtime's accept/observe: stores ids like the outbox would."""

    accepted: list[RawClick] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    seen: list[ButtonSeen] = field(default_factory=list)
    failing: bool = False

    async def accept(self, raw: RawClick) -> Accepted:
        if self.failing:
            raise OSError("disk full")
        self.accepted.append(raw)
        assert raw.event_id is not None
        duplicate = raw.event_id in self.stored
        self.stored.add(raw.event_id)
        return Accepted(event_id=raw.event_id, duplicate=duplicate)

    def observe(self, seen: ButtonSeen) -> None:
        self.seen.append(seen)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def receiver(runtime: FakeRuntime, clock: Clock) -> HubReceiver:
    return HubReceiver(runtime.accept, runtime.observe, clock.now, offline_after_s=180)


def click(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "type": "click",
        "bdaddr": "80:E4:DA:71:23:45",
        "click": "single",
        "event_id": "hub-1-abc-1",
        "name": "front-desk",
        "battery": 87,
        "pressed_at": "2026-11-26T06:59:59.500Z",
        "queued": False,
        "queued_s": 0,
        "hub_id": "hub-1",
        "serial": "BD00-A00000",
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def heartbeat(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "type": "heartbeat",
        "hub_id": "hub-1",
        "buttons": [
            {"name": "front-desk", "bdaddr": "80:E4:DA:71:23:45", "battery": 87, "connected": True},
            {"name": "back-door", "bdaddr": "80:e4:da:71:99:01", "battery": 9, "connected": False},
        ],
        "dropped": {"count": 0, "event_ids": []},
        "rejected": [],
        "pending": 0,
        "uptime_s": 120,
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


async def test_a_click_goes_to_the_outbox_with_the_hubs_event_id(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    status, answer = await receiver.handle(click())
    assert (status, answer) == (
        202,
        {"status": "accepted", "event_id": "hub-1-abc-1", "duplicate": False},
    )
    assert runtime.accepted == [
        RawClick(
            address=ADDRESS,
            click_type=ClickType.SINGLE,
            source="hub",
            pressed_at=T0 - timedelta(seconds=0.5),
            queued=False,
            queued_s=0.0,
            event_id="hub-1-abc-1",
            name_hint="front-desk",
        )
    ]
    assert runtime.seen == [
        ButtonSeen(
            address=ADDRESS,
            source="hub",
            seen_at=T0,
            connected=True,
            battery=87,
            name_hint="front-desk",
        )
    ]


@pytest.mark.parametrize("kind", ["single", "double", "hold"])
async def test_every_hub_click_type_is_taken(
    receiver: HubReceiver, runtime: FakeRuntime, kind: str
) -> None:
    status, _ = await receiver.handle(click(click=kind, event_id=f"id-{kind}"))
    assert status == 202
    assert runtime.accepted[0].click_type == ClickType(kind)


async def test_a_retried_event_id_is_stored_once(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    answers = [await receiver.handle(click()) for _ in range(3)]
    assert [a[0] for a in answers] == [202, 202, 202]
    assert [a[1]["duplicate"] for a in answers] == [False, True, True]
    assert {a[1]["event_id"] for a in answers} == {"hub-1-abc-1"}
    assert len(runtime.accepted) == 1


async def test_a_duplicate_the_outbox_already_had_is_reported_as_such(
    runtime: FakeRuntime, clock: Clock
) -> None:
    # After a bridge restart the receiver's memory is empty; the outbox still knows the id.
    runtime.stored.add("hub-1-abc-1")
    receiver = HubReceiver(runtime.accept, runtime.observe, clock.now)
    status, answer = await receiver.handle(click())
    assert status == 202
    assert answer["duplicate"] is True


async def test_a_click_that_cannot_be_stored_asks_the_hub_to_retry(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    runtime.failing = True
    status, answer = await receiver.handle(click())
    assert status == 503
    assert "retry" in answer["error"]
    runtime.failing = False
    status, answer = await receiver.handle(click())
    assert (status, answer["duplicate"]) == (202, False)
    assert len(runtime.accepted) == 1


@pytest.mark.parametrize(
    ("pressed_at", "expected"),
    [
        (int((T0 - timedelta(seconds=2)).timestamp() * 1000), T0 - timedelta(seconds=2)),
        ("2026-11-26T06:59:58Z", T0 - timedelta(seconds=2)),
        ("2026-11-26T07:59:58+01:00", T0 - timedelta(seconds=2)),
        ("2026-11-26T06:59:58", T0 - timedelta(seconds=2)),
        (..., T0),  # not given: the arrival time
        ("2026-11-26T08:00:00Z", T0),  # hub clock ahead: never in the future
        ("2020-01-01T00:00:00Z", T0),  # hub clock unset: the arrival time
    ],
)
async def test_press_time_comes_from_the_hub_within_reason(
    receiver: HubReceiver, runtime: FakeRuntime, pressed_at: Any, expected: datetime
) -> None:
    status, _ = await receiver.handle(click(pressed_at=pressed_at))
    assert status == 202
    assert runtime.accepted[0].pressed_at == expected


async def test_a_press_the_button_queued_keeps_its_age(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    await receiver.handle(click(queued=True, queued_s=42, pressed_at="2026-11-26T06:59:18Z"))
    raw = runtime.accepted[0]
    assert (raw.queued, raw.queued_s, raw.pressed_at) == (True, 42.0, T0 - timedelta(seconds=42))


async def test_a_press_delayed_on_the_hub_counts_as_queued(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    await receiver.handle(click(event_id="late", pressed_at="2026-11-26T06:55:00Z"))
    await receiver.handle(click(event_id="prompt", pressed_at="2026-11-26T06:59:58Z"))
    late, prompt = runtime.accepted
    assert (late.queued, late.queued_s) == (True, 300.0)
    assert (prompt.queued, prompt.queued_s) == (False, 0.0)


async def test_hub_ids_and_names_in_any_language_are_taken(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    status, _ = await receiver.handle(
        click(hub_id="Küche Hub (2. OG)", name="Tür 🚪", event_id="K_che_Hub-x-1")
    )
    assert status == 202
    assert runtime.accepted[0].name_hint == "Tür 🚪"
    status, _ = await receiver.handle(heartbeat(hub_id="Küche Hub (2. OG)"))
    assert status == 202
    assert receiver.status()["hubs"][0]["hub_id"] == "Küche Hub (2. OG)"


async def test_an_unnamed_button_has_no_name_hint(
    receiver: HubReceiver, runtime: FakeRuntime
) -> None:
    await receiver.handle(click(name=None, battery=None))
    assert runtime.accepted[0].name_hint is None
    assert runtime.seen[0].battery is None


BAD_BODIES: list[tuple[bytes, int, str]] = [
    (b"", 400, "empty"),
    (b"   ", 400, "empty"),
    (b"click", 400, "not valid JSON"),
    (b'{"type": "click",', 400, "not valid JSON"),
    (b"\xff\xfe{}", 400, "UTF-8"),
    (b"[1, 2]", 400, "JSON object"),
    (b'"click"', 400, "JSON object"),
    (b"{}", 422, "type"),
    (b'{"type": "press"}', 422, "type"),
    (b'{"type": 1}', 422, "type"),
    (click(bdaddr=...), 422, "bdaddr"),
    (click(bdaddr="80:e4:da:71:23"), 422, "bdaddr: must look like 80:e4:da:71:23:45"),
    (click(bdaddr=12), 422, "bdaddr"),
    (click(click="triple"), 422, "click"),
    (click(click=...), 422, "click"),
    (click(event_id=""), 422, "event_id"),
    (click(event_id=...), 422, "event_id"),
    (click(event_id="a b"), 422, "event_id: must be text without spaces"),
    (click(event_id="x" * 129), 422, "event_id"),
    (click(battery=101), 422, "battery"),
    (click(battery=True), 422, "battery"),
    (click(battery="87"), 422, "battery"),
    (click(name=5), 422, "name"),
    (click(pressed_at="yesterday"), 422, "pressed_at"),
    (click(pressed_at=-5), 422, "pressed_at"),
    (click(pressed_at=10**30), 422, "pressed_at"),
    (click(pressed_at=True), 422, "pressed_at"),
    (click(pressed_at="0001-01-01T00:00:00+14:00"), 422, "pressed_at"),
    (click(queued="yes"), 422, "queued"),
    (click(queued_s=-1), 422, "queued_s"),
    (click(hub_id=""), 422, "hub_id"),
    (
        b'{"type": "click", "bdaddr": "80:e4:da:71:23:45", "click": "single", "event_id": "a",'
        b' "queued_s": NaN}',
        422,
        "queued_s",
    ),
    (heartbeat(hub_id=...), 422, "hub_id"),
    (b'{"type": "heartbeat"}', 422, "hub_id"),
    (heartbeat(buttons={"a": 1}), 422, "buttons"),
    (heartbeat(buttons=[{"name": "x"}]), 422, "buttons.0.bdaddr"),
    (heartbeat(buttons=[{"bdaddr": ADDRESS, "connected": "yes"}]), 422, "connected"),
    (heartbeat(dropped=-1), 422, "dropped"),
    (heartbeat(dropped={"count": "two"}), 422, "dropped"),
    (heartbeat(pending=-3), 422, "pending"),
    (heartbeat(heartbeat_s=0), 422, "heartbeat_s"),
    (b"[" * 30_000, 400, "JSON"),
    (b"{" + b'"a": 1,' * 10_000 + b'"type": "click"}', 413, "larger"),
]


@pytest.mark.parametrize(("body", "status", "mentions"), BAD_BODIES)
async def test_a_malformed_body_gets_a_4xx_naming_the_problem(
    receiver: HubReceiver, runtime: FakeRuntime, body: bytes, status: int, mentions: str
) -> None:
    got, answer = await receiver.handle(body)
    assert got == status, answer
    assert mentions in json.dumps(answer), answer
    assert runtime.accepted == []
    assert receiver.status()["hubs"] == []


async def test_heartbeats_show_the_hub_its_buttons_and_when_it_goes_offline(
    receiver: HubReceiver, runtime: FakeRuntime, clock: Clock
) -> None:
    assert receiver.status() == {
        "state": "waiting",
        "detail": "no hub has sent a heartbeat yet",
        "offline_after_s": 180,
        "hubs": [],
    }
    assert await receiver.handle(heartbeat()) == (
        202,
        {"status": "ok", "hub_id": "hub-1", "buttons": 2},
    )
    clock.advance(100)
    status = receiver.status()
    assert status["state"] == "online"
    [hub] = status["hubs"]
    assert hub["hub_id"] == "hub-1"
    assert hub["online"] is True
    assert hub["last_heartbeat_at"] == "2026-11-26T07:00:00Z"
    assert hub["last_heartbeat_age_s"] == 100.0
    assert hub["buttons"] == [
        {"name": "front-desk", "address": ADDRESS, "battery": 87, "connected": True},
        {"name": "back-door", "address": "80:e4:da:71:99:01", "battery": 9, "connected": False},
    ]
    assert runtime.seen == [
        ButtonSeen(ADDRESS, "hub", T0, connected=True, battery=87, name_hint="front-desk"),
        ButtonSeen(
            "80:e4:da:71:99:01", "hub", T0, connected=False, battery=9, name_hint="back-door"
        ),
    ]

    clock.advance(81)  # 181 s without a heartbeat
    status = receiver.status()
    assert status["state"] == "offline"
    assert status["detail"] == "hub-1 offline, heartbeat 181 s ago, 2 button(s)"
    assert status["hubs"][0]["state"] == "offline"
    assert status["hubs"][0]["last_heartbeat_at"] == "2026-11-26T07:00:00Z"

    await receiver.handle(heartbeat())
    assert receiver.status()["hubs"][0]["online"] is True


async def test_a_hub_with_a_slow_heartbeat_stays_online_between_beats(
    receiver: HubReceiver, clock: Clock
) -> None:
    await receiver.handle(heartbeat(heartbeat_s=300))
    clock.advance(899)
    assert receiver.status()["hubs"][0]["online"] is True
    clock.advance(2)
    assert receiver.status()["hubs"][0]["online"] is False


async def test_drops_the_hub_reports_add_up_on_the_status(receiver: HubReceiver) -> None:
    await receiver.handle(heartbeat(dropped={"count": 2, "event_ids": ["h-1", "h-2"]}))
    await receiver.handle(heartbeat(dropped={"count": 0, "event_ids": []}))
    await receiver.handle(heartbeat(dropped=1, rejected=[{"event_id": "h-9", "status": 422}]))
    [hub] = receiver.status()["hubs"]
    assert hub["dropped_total"] == 3
    assert hub["last_dropped_event_ids"] == ["h-1", "h-2"]
    assert hub["rejected_total"] == 1
    assert receiver.status()["detail"].endswith(", 3 press(es) dropped on the hub")


async def test_two_hubs_are_tracked_apart(receiver: HubReceiver, clock: Clock) -> None:
    await receiver.handle(heartbeat(hub_id="upstairs"))
    clock.advance(170)
    await receiver.handle(heartbeat(hub_id="downstairs", buttons=[]))
    clock.advance(20)
    hubs = {h["hub_id"]: h for h in receiver.status()["hubs"]}
    assert hubs["upstairs"]["online"] is False
    assert hubs["downstairs"]["online"] is True
    assert hubs["downstairs"]["buttons"] == []
    assert receiver.status()["state"] == "online"


async def test_hubs_keep_their_order_and_the_longest_silent_is_forgotten_past_the_limit(
    receiver: HubReceiver, clock: Clock
) -> None:
    for i in range(MAX_HUBS):
        await receiver.handle(heartbeat(hub_id=f"hub-{i:03d}", buttons=[]))
        clock.advance(1)
    await receiver.handle(heartbeat(hub_id="hub-000", buttons=[]))
    names = [h["hub_id"] for h in receiver.status()["hubs"]]
    assert names == [f"hub-{i:03d}" for i in range(MAX_HUBS)]
    await receiver.handle(heartbeat(hub_id="newcomer", buttons=[]))
    names = [h["hub_id"] for h in receiver.status()["hubs"]]
    assert len(names) == MAX_HUBS
    assert "hub-001" not in names
    assert names[0] == "hub-000"
    assert names[-1] == "newcomer"


async def test_a_click_records_when_its_hub_last_sent_one(
    receiver: HubReceiver, clock: Clock
) -> None:
    await receiver.handle(heartbeat())
    clock.advance(5)
    await receiver.handle(click())
    [hub] = receiver.status()["hubs"]
    assert hub["last_click_at"] == "2026-11-26T07:00:05Z"


def test_the_bearer_token_is_checked() -> None:
    assert authorized("Bearer s3cret", "s3cret")
    assert authorized("bearer  s3cret ", "s3cret")
    assert not authorized("Bearer wrong", "s3cret")
    assert not authorized("s3cret", "s3cret")
    assert not authorized("Basic s3cret", "s3cret")
    assert not authorized(None, "s3cret")
    assert not authorized("Bearer ", "")


# --- fuzzing: whatever arrives, the answer is a 202 or a 4xx, never an exception ------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
CLICK_FIELDS = st.fixed_dictionaries(
    {"type": st.sampled_from(["click", "heartbeat", "CLICK", ""])},
    optional={
        "bdaddr": st.one_of(st.just(ADDRESS), JSON_VALUES),
        "click": st.one_of(st.sampled_from([t.value for t in ClickType]), JSON_VALUES),
        "event_id": st.one_of(st.text(max_size=140), JSON_VALUES),
        "name": JSON_VALUES,
        "battery": JSON_VALUES,
        "pressed_at": st.one_of(st.integers(), st.floats(), st.text(max_size=40), JSON_VALUES),
        "queued": JSON_VALUES,
        "queued_s": JSON_VALUES,
        "hub_id": JSON_VALUES,
        "buttons": JSON_VALUES,
        "dropped": JSON_VALUES,
        "pending": JSON_VALUES,
        "rejected": JSON_VALUES,
    },
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _answer(body: bytes) -> tuple[int, dict[str, Any]]:
    runtime = FakeRuntime()
    receiver = HubReceiver(runtime.accept, runtime.observe, Clock().now)
    status, answer = asyncio.run(receiver.handle(body))
    assert isinstance(answer, dict)
    json.dumps(answer)  # the answer can always be sent as JSON
    if status == 202:
        assert len(runtime.accepted) <= 1
    else:
        assert 400 <= status < 500, (status, answer)
        assert runtime.accepted == []
        assert answer["error"]
    return status, answer


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _answer(body)


@FUZZ
@given(JSON_VALUES)
def test_fuzz_arbitrary_json(value: Any) -> None:
    _answer(json.dumps(value).encode())


@FUZZ
@given(CLICK_FIELDS)
def test_fuzz_hub_shaped_bodies(value: dict[str, Any]) -> None:
    _answer(json.dumps(value).encode())


MODULE_BODIES = st.fixed_dictionaries(
    {
        "type": st.just("click"),
        "bdaddr": st.lists(st.integers(0, 255), min_size=6, max_size=6).map(
            lambda octets: ":".join(f"{o:02x}" for o in octets)
        ),
        "click": st.sampled_from(["single", "double", "hold"]),
        "event_id": st.from_regex(
            r"[A-Za-z0-9._-]{1,40}-[0-9a-z]{1,16}-[0-9]{1,9}", fullmatch=True
        ),
        "name": st.none() | st.text(min_size=1, max_size=100),
        "battery": st.none() | st.integers(0, 100),
        "pressed_at": st.integers(0, 10 * 86400 * 1000).map(
            lambda back_ms: (
                (T0 - timedelta(milliseconds=back_ms)).isoformat().replace("+00:00", "Z")
            )
        ),
        "queued": st.booleans(),
        "queued_s": st.integers(0, 30 * 86400) | st.floats(0, 30 * 86400),
        "hub_id": st.text(min_size=1, max_size=64).filter(
            lambda s: not any(ord(c) < 32 or ord(c) == 127 for c in s)
        ),
        "serial": st.none() | st.text(max_size=64),
    }
)


@FUZZ
@given(MODULE_BODIES)
def test_every_body_the_module_can_send_is_accepted(value: dict[str, Any]) -> None:
    status, answer = _answer(json.dumps(value).encode())
    assert status == 202, answer
    assert answer["event_id"] == value["event_id"]
