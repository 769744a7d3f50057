"""Issue 16: whatever a channel raises is a failed attempt that falls through."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.escalation.machine import Policy, Step, Target
from server.escalation.people import User
from server.escalation.scheduler import Scheduler
from server.escalation.state_store import AlertView
from server.notify.apprise_channel import AppriseChannel
from server.notify.base import Page
from tests.escalation.test_scheduler import (
    SECRET,
    T0,
    Alerts,
    World,
    inline,
    on_open,
    settle,
    world,
)

__all__ = ["world"]  # the fixture, shared with the scheduler tests

MULTI_LINE = "DiskFull: Disk is full\non db1"


@dataclass
class TitledAlerts(Alerts):
    """Alerts with a chosen title (Alertmanager's summaries are often several lines)."""

    title: str = MULTI_LINE

    def alert(self, alert_id: int) -> AlertView | None:
        if alert_id not in self.status:
            return None
        return AlertView(alert_id, self.status[alert_id], self.title, "")


@dataclass
class Exploding:
    """A channel with a bug: every send raises something no channel is supposed to raise."""

    calls: list[str] = field(default_factory=list)

    async def send(self, address: str, page: Page) -> None:
        self.calls.append(address)
        raise KeyError("no such template")


def email_then_push(world: World) -> tuple[int, str]:
    store = world.store()
    push = f"json://127.0.0.1:{world.web_port}/push"
    dana = store.add_user(User(0, "Dana", "dana@example.org", None, ((push, None),)), T0)
    policy = store.add_policy(
        "disk", Policy((Step(0, (Target("user", dana),), via=("email",)),)), T0
    )
    return policy, push


async def test_a_multi_line_title_arrives_as_a_one_line_subject(world: World) -> None:
    world.alerts = TitledAlerts()
    policy, _ = email_then_push(world)
    scheduler = world.scheduler(world.store())
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    [mail] = world.box.to("dana@example.org")
    assert mail["Subject"] == "[flic-edge] Alert #1: DiskFull: Disk is full on db1"
    assert mail.get_content().splitlines()[:2] == MULTI_LINE.splitlines()  # body keeps lines
    assert world.alerts.kinds(1).count("notification_sent") == 1


async def test_a_channel_that_raises_anything_is_a_failed_attempt_and_falls_through(
    world: World,
) -> None:
    world.alerts = TitledAlerts()
    policy, _ = email_then_push(world)
    store = world.store()
    broken = Exploding()
    scheduler = Scheduler(
        store, world.alerts, {"email": broken, "apprise": AppriseChannel()}, world.clock, inline,
        link_secret=SECRET, public_base_url="http://alerts.local:8380", settings=world.settings,
    )  # fmt: skip
    world.alerts.status[1] = "open"
    await on_open(scheduler, 1, policy)
    await settle(scheduler)
    await settle(scheduler)
    assert broken.calls == ["dana@example.org"]  # tried once: retrying a bug is pointless
    assert len(world.web.on("/push")) == 1  # the next contact got the page
    timeline = [(k, d) for _, k, d in world.alerts.timeline]
    kinds = [k for k, _ in timeline]
    assert kinds[-3:] == ["notification_gave_up", "notification_fallthrough", "notification_sent"]
    gave_up = dict(timeline)["notification_gave_up"]
    assert "attempt 1 failed (KeyError: 'no such template')" in gave_up
