"""Two servers' schedulers on one real PostgreSQL, ticking at the same moments on their own
database threads: every escalation step runs once and every page is sent once (a real SMTP
server counts them). The two-process version with a SIGKILL is in tests/ha/."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from server.alerts.model import InboundMessage
from server.alerts.store import Store
from server.app.schema import all_migrations
from server.db.connection import DbThread
from server.db.migrate import migrate
from server.escalation.machine import Policy, Step, Target
from server.escalation.paging import EscalationSettings
from server.escalation.people import User
from server.escalation.scheduler import RECOVER_MIN_AGE_S, Scheduler
from server.escalation.state_store import AlertsTable, EscalationStore
from server.inbound.mapping import Decision
from server.notify.email import EmailChannel, SmtpSettings
from server.postgres.database import PostgresDatabase
from server.postgres.url import parse_database_url
from tests.escalation.receivers import Mailbox, smtp_server
from tests.escalation.test_scheduler import SECRET, T0, ManualClock
from tests.support.postgres import Postgres


class Server:
    """One server's database, stores, database thread and scheduler."""

    def __init__(self, url: str, clock: ManualClock, smtp_port: int) -> None:
        parsed = parse_database_url(url)
        assert parsed is not None
        self.db = PostgresDatabase(parsed)
        migrate(self.db, all_migrations())
        self.alerts = Store(self.db)
        self.people = EscalationStore(self.db)
        self.thread = DbThread()
        self.scheduler = Scheduler(
            self.people,
            AlertsTable(self.alerts, self.people),
            {"email": EmailChannel(SmtpSettings(port=smtp_port, timeout_s=5))},
            clock,
            self.thread.run,
            link_secret=SECRET,
            public_base_url="http://alerts.local:8380",
            settings=EscalationSettings(),
        )

    def close(self) -> None:
        self.thread.close()
        self.db.close()


@dataclass
class Pair:
    """Two servers on one database, one clock, and the SMTP server their pages reach."""

    servers: list[Server]
    clock: ManualClock
    box: Mailbox


@pytest.fixture
def pair(postgres: Postgres) -> Iterator[Pair]:
    with smtp_server() as (box, port):
        clock = ManualClock()
        servers = [Server(postgres.url, clock, port) for _ in range(2)]
        try:
            yield Pair(servers, clock, box)
        finally:
            for s in servers:
                s.close()


async def test_two_schedulers_on_one_database_run_each_step_once(pair: Pair) -> None:
    servers, clock, box = pair.servers, pair.clock, pair.box
    first = servers[0]
    crew = [
        first.people.add_user(User(0, n, f"{n}@example.org", None, ()), T0)
        for n in ("ann", "ben", "cat", "dan", "eve", "fay", "gus")
    ]
    steps = (
        Step(0, tuple(Target("user", u) for u in crew[:5])),
        Step(60, (Target("user", crew[5]),)),
        Step(120, (Target("user", crew[6]),)),
    )
    policy = first.people.add_policy("ward", Policy(steps), T0)
    desk = first.alerts.create_integration(
        name="desk", kind="flic", mapping={}, now=T0, escalation_policy_id=policy
    )
    opened = first.alerts.record_inbound(
        InboundMessage(desk.id, T0, b"{}", "application/json"),
        Decision("open", "", source_name="room-12", title="room-12 pressed"),
    )
    alert_id = opened.changes[0].alert_id
    await first.thread.run(first.scheduler.alert_opened, alert_id, policy)
    for _ in range(4):  # each minute: both servers tick together, several times
        for _ in range(4):
            await asyncio.gather(*(s.scheduler.tick() for s in servers))
        for s in servers:
            await s.scheduler.drain()
        clock.advance(60)
    sent = Counter(str(m["To"]) for m in box.messages)
    assert sent == Counter(
        f"{n}@example.org" for n in ("ann", "ben", "cat", "dan", "eve", "fay", "gus")
    )
    kinds = [e.kind for e in first.alerts.timeline(alert_id)]
    assert kinds.count("escalation_step") == 3
    assert kinds.count("notification_sent") == 7
    assert kinds.count("escalation_started") == 1


async def test_only_one_server_leads_until_its_session_ends(postgres: Postgres) -> None:
    """The MQTT publisher's lock: the first to ask leads, the other waits; when the leader's
    connection is gone the other takes over."""
    url = parse_database_url(postgres.url)
    assert url is not None
    a, b = PostgresDatabase(url), PostgresDatabase(url)
    try:
        assert a.try_lead(7) is True
        assert a.try_lead(7) is True  # still held, asked again
        assert b.try_lead(7) is False
        a.close()
        assert b.try_lead(7) is True
    finally:
        b.close()


async def test_an_alert_whose_server_died_before_escalating_it_is_escalated_by_another(
    pair: Pair,
) -> None:
    clock, box = pair.clock, pair.box
    first, second = pair.servers
    ann = first.people.add_user(User(0, "ann", "ann@example.org", None, ()), T0)
    policy = first.people.add_policy("ward", Policy((Step(0, (Target("user", ann),)),)), T0)
    desk = first.alerts.create_integration(
        name="desk", kind="flic", mapping={}, now=T0, escalation_policy_id=policy
    )
    first.alerts.record_inbound(
        InboundMessage(desk.id, T0, b"{}", "application/json"),
        Decision("open", "", source_name="room-3", title="room-3 pressed"),
    )  # ...and the first server dies before its scheduler hears of the alert
    assert await second.thread.run(second.scheduler.recover, RECOVER_MIN_AGE_S) == 0
    clock.advance(RECOVER_MIN_AGE_S)
    assert await second.thread.run(second.scheduler.recover, RECOVER_MIN_AGE_S) == 1
    assert await first.thread.run(first.scheduler.recover, RECOVER_MIN_AGE_S) == 0
    await second.scheduler.tick()
    await second.scheduler.drain()
    assert [str(m["To"]) for m in box.messages] == ["ann@example.org"]
