"""The scheduler on a real SQLite file, a real SMTP server and real HTTP receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from server.app.schema import all_migrations
from server.db.connection import open_database
from server.escalation.links import verify
from server.escalation.machine import Policy, Step, Target
from server.escalation.paging import EscalationSettings, retry_delay_s
from server.escalation.people import User
from server.escalation.scheduler import Scheduler
from server.escalation.state_store import AlertView, EscalationStore
from server.notify.apprise_channel import AppriseChannel
from server.notify.email import EmailChannel, SmtpSettings
from tests.escalation.receivers import HttpInbox, Mailbox, http_receiver, smtp_server

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SECRET = b"k" * 32
R = TypeVar("R")


async def inline(fn: Callable[[], R]) -> R:
    """Run a database function right here (the server runs it on its database thread)."""
    return fn()


@dataclass
class ManualClock:
    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Alerts:
    """Stand-in for the alert store's side of the seam: status and timeline."""

    status: dict[int, str] = field(default_factory=dict)
    timeline: list[tuple[int, str, str]] = field(default_factory=list)

    def alert(self, alert_id: int) -> AlertView | None:
        if alert_id not in self.status:
            return None
        return AlertView(alert_id, self.status[alert_id], "front-desk pressed", "Front desk")

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        self.timeline.append((alert_id, kind, detail))

    def unescalated(self) -> list[tuple[int, int, datetime]]:
        return []

    def kinds(self, alert_id: int) -> list[str]:
        return [k for a, k, _ in self.timeline if a == alert_id]


@dataclass
class World:
    db_path: Path
    box: Mailbox
    smtp_port: int
    web: HttpInbox
    web_port: int
    clock: ManualClock = field(default_factory=ManualClock)
    alerts: Alerts = field(default_factory=Alerts)
    settings: EscalationSettings = field(
        default_factory=lambda: EscalationSettings(retry_base_s=10, retry_max_s=60)
    )

    def store(self) -> EscalationStore:
        # The same database each call (a restart reopens it), with the server's migrations.
        return EscalationStore(open_database(self.db_path.parent / "db", all_migrations()))

    def scheduler(self, store: EscalationStore) -> Scheduler:
        channels = {
            "email": EmailChannel(SmtpSettings(port=self.smtp_port, timeout_s=5)),
            "apprise": AppriseChannel(),
        }
        return Scheduler(
            store,
            self.alerts,
            channels,
            self.clock,
            inline,
            link_secret=SECRET,
            public_base_url="http://alerts.local:8380",
            settings=self.settings,
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with smtp_server() as (box, smtp_port), http_receiver() as (web, web_port):
        yield World(tmp_path / "server.db", box, smtp_port, web, web_port)


def two_people(store: EscalationStore) -> tuple[int, int, int]:
    alice = store.add_user(User(0, "Alice", "alice@example.org", None, ()), T0)
    bob = store.add_user(User(0, "Bob", "bob@example.org", None, ()), T0)
    policy = store.add_policy(
        "desk",
        Policy((Step(0, (Target("user", alice),)), Step(300, (Target("user", bob),)))),
        T0,
    )
    return alice, bob, policy


async def settle(scheduler: Scheduler) -> None:
    await scheduler.tick()
    await scheduler.drain()


async def on_open(scheduler: Scheduler, alert_id: int, policy_id: int | None) -> None:
    """An alert opened: start escalating it now (as the server's AlertChange handler does)."""
    await inline(lambda: scheduler.alert_opened(alert_id, policy_id))
    scheduler.wake()


async def on_stop(scheduler: Scheduler, alert_id: int, reason: str) -> None:
    """An alert was acknowledged or closed: stop paging for it."""
    await inline(lambda: scheduler.alert_stopped(alert_id, reason))


async def test_step_one_pages_at_once_and_step_two_after_its_delay(world: World) -> None:
    store = world.store()
    _, _, policy = two_people(store)
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    assert [m["To"] for m in world.box.messages] == ["alice@example.org"]
    world.clock.advance(299)
    await settle(scheduler)
    assert world.box.count() == 1
    world.clock.advance(1)
    await settle(scheduler)
    assert [m["To"] for m in world.box.messages] == ["alice@example.org", "bob@example.org"]
    assert world.alerts.kinds(1) == [
        "escalation_started",
        "escalation_step",
        "notification_sent",
        "escalation_step",
        "escalation_finished",
        "notification_sent",
    ]


async def test_the_email_carries_a_signed_acknowledge_link(world: World) -> None:
    store = world.store()
    _, _, policy = two_people(store)
    scheduler = world.scheduler(store)
    world.alerts.status[5] = "open"
    await on_open(scheduler, 5, policy)
    await settle(scheduler)
    body = world.box.messages[0].get_content()
    ack = next(line for line in body.splitlines() if line.startswith("Acknowledge: "))
    token = ack.removeprefix("Acknowledge: http://alerts.local:8380/l/")
    claim = verify(SECRET, token, world.clock())
    assert (claim.action, claim.alert_id) == ("acknowledge", 5)


async def test_acknowledging_stops_everything(world: World) -> None:
    store = world.store()
    _, _, policy = two_people(store)
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    world.alerts.status[1] = "acknowledged"
    await on_stop(scheduler, 1, "acknowledged")
    world.clock.advance(3600)
    await settle(scheduler)
    assert world.box.count() == 1
    assert world.alerts.kinds(1)[-1] == "escalation_stopped"


async def test_opening_twice_pages_once(world: World) -> None:
    store = world.store()
    _, _, policy = two_people(store)
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    await settle(scheduler)
    assert world.box.count() == 1


async def test_a_restart_between_steps_delivers_step_two_exactly_once(world: World) -> None:
    store = world.store()
    _, _, policy = two_people(store)
    first = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(first, 1, policy)
    await settle(first)
    # A new process: a fresh connection and scheduler on the same database file.
    second = world.scheduler(world.store())
    world.clock.advance(300)
    await settle(second)
    await settle(second)
    world.clock.advance(3600)
    await settle(second)
    assert [m["To"] for m in world.box.messages] == ["alice@example.org", "bob@example.org"]


async def test_a_failing_contact_is_retried_with_backoff_then_falls_through(world: World) -> None:
    store = world.store()
    world.web.status = 500  # the SMS gateway is broken
    sms = f"smseagle://tok@127.0.0.1:{world.web_port}/+15551234567"
    push = f"json://127.0.0.1:{world.web_port}/push"
    carol = store.add_user(User(0, "Carol", None, None, ((sms, None), (push, None))), T0)
    policy = store.add_policy("sms", Policy((Step(0, (Target("user", carol),), via=("sms",)),)), T0)
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    assert len(world.web.on("/jsonrpc/sms")) == 1
    for delay_s in (retry_delay_s(1, 10, 60), retry_delay_s(2, 10, 60)):
        world.clock.advance(delay_s - 1)
        await settle(scheduler)
        world.clock.advance(1)
        await settle(scheduler)
    assert len(world.web.on("/jsonrpc/sms")) == 3
    assert world.web.on("/push") == []
    world.web.status = 200
    await settle(scheduler)
    assert len(world.web.on("/push")) == 1
    kinds = world.alerts.kinds(1)
    assert kinds.count("notification_failed") == 2
    assert kinds[-3:] == ["notification_gave_up", "notification_fallthrough", "notification_sent"]


async def test_a_flapping_button_is_throttled_per_contact(world: World) -> None:
    store = world.store()
    _, _, _ = two_people(store)
    only_alice = store.add_policy("alice", Policy((Step(0, (Target("user", 1),)),)), T0)
    world.settings = EscalationSettings(throttle_max=2, throttle_window_s=600)
    scheduler = world.scheduler(store)
    for alert_id in (1, 2, 3):
        world.alerts.status[alert_id] = "open"
        await on_open(scheduler, alert_id, only_alice)
        await settle(scheduler)
    assert world.box.count() == 2
    assert "notification_throttled" in world.alerts.kinds(3)
    world.clock.advance(601)
    world.alerts.status[4] = "open"
    await on_open(scheduler, 4, only_alice)
    await settle(scheduler)
    assert world.box.count() == 3


async def test_a_step_with_nobody_on_call_is_skipped_at_once(world: World) -> None:
    from server.escalation.schedules import Schedule

    store = world.store()
    alice, _, _ = two_people(store)
    empty = store.add_schedule("nobody", Schedule("Europe/Berlin"), T0)
    policy = store.add_policy(
        "p",
        Policy((Step(0, (Target("schedule", empty),)), Step(900, (Target("user", alice),)))),
        T0,
    )
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    await settle(scheduler)
    assert [m["To"] for m in world.box.messages] == ["alice@example.org"]
    assert world.alerts.kinds(1)[1] == "escalation_step_skipped"


async def test_an_open_event_lost_in_a_crash_is_escalated_on_the_next_start(world: World) -> None:
    """The alert committed, then the process died before the AlertChange reached escalation."""
    from server.alerts.model import InboundMessage
    from server.alerts.store import Store
    from server.db.connection import open_database
    from server.escalation.state_store import AlertsTable
    from server.inbound.mapping import Decision

    db = open_database(world.db_path.parent / "server", all_migrations())
    try:
        store = EscalationStore(db)
        _, _, policy = two_people(store)
        alerts = Store(db)
        integration = alerts.create_integration(
            name="desk", kind="flic", mapping={}, now=T0, escalation_policy_id=policy
        )
        opened = alerts.record_inbound(
            InboundMessage(integration.id, T0, b"{}", "application/json"),
            Decision("open", "", source_name="front-desk", title="front-desk pressed"),
        )
        alert_id = opened.changes[0].alert_id  # the change is never published: the crash
        table = AlertsTable(alerts, store)
        scheduler = Scheduler(
            store, table, {"email": EmailChannel(SmtpSettings(port=world.smtp_port))},
            world.clock, inline, link_secret=SECRET, public_base_url="http://x",
            settings=world.settings,
        )  # fmt: skip
        assert scheduler.recover() == 1
        assert scheduler.recover() == 0
        await settle(scheduler)
        assert [m["To"] for m in world.box.messages] == ["alice@example.org"]
        kinds = [e.kind for e in alerts.timeline(alert_id)]
        assert kinds[-3:] == ["escalation_started", "escalation_step", "notification_sent"]
    finally:
        db.conn.close()


async def test_steps_reach_groups_and_whoever_is_on_call_through_the_chosen_contacts(
    world: World,
) -> None:
    from datetime import date, time

    from server.escalation.people import Group
    from server.escalation.schedules import Rotation, Schedule

    store = world.store()
    push = f"json://127.0.0.1:{world.web_port}/"
    ids = [
        store.add_user(
            User(0, name, f"{name.lower()}@example.org", None, ((push + name, None),)), T0
        )
        for name in ("Ann", "Ben", "Cat", "Dan")
    ]
    ann, ben, cat, dan = ids
    # Ben holds today's shift (Ann had yesterday's), handing off at 06:00 Berlin time.
    rotation = Rotation((ann, ben), date(2026, 11, 25), time(6, 0))
    desk = store.add_schedule("desk", Schedule("Europe/Berlin", (rotation,)), T0)
    night = store.add_group(Group(0, "night", (cat, dan)), T0)
    policy = store.add_policy(
        "p",
        Policy(
            (
                Step(0, (Target("schedule", desk),), via=("email",)),
                Step(60, (Target("group", night),), via=("push",)),
            )
        ),
        T0,
    )
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    assert [m["To"] for m in world.box.messages] == ["ben@example.org"]
    assert world.web.requests == []
    world.clock.advance(60)
    await settle(scheduler)
    assert sorted(r.path for r in world.web.requests) == ["/Cat", "/Dan"]
    assert world.box.count() == 1


async def test_a_policy_cut_short_while_escalating_ends_the_escalation(world: World) -> None:
    store = world.store()
    alice, _, policy = two_people(store)
    scheduler = world.scheduler(store)
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    store.replace_policy(policy, "short", Policy((Step(0, (Target("user", alice),)),)))
    world.clock.advance(300)
    await settle(scheduler)
    state = store.escalation(1)
    assert state is not None
    assert (state.status, state.reason) == ("finished", "policy changed")
    assert world.box.count() == 1
