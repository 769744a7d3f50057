"""The real alert-server pages people through a real SMTP server, step by step.

The escalation clock is a file the test moves forward (`tests.support.clocked_server`), so
"after its delay" needs no waiting and nothing depends on timing. To prove that something did
NOT happen, a sentinel alert is paged after it: once the sentinel's email is in, the scheduler
has run every step that was due, and the database shows what it queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.escalation.harness import AlertServer, ClockFile, link, mail_to
from tests.escalation.receivers import Mailbox, http_receiver, smtp_server
from tests.support.procs import wait_until


@dataclass
class Desk:
    """A server with Alice (step 1, at once), Bob (step 2, after 300 s) and a sentinel."""

    server: AlertServer
    box: Mailbox
    clock: ClockFile
    inbound: str
    sentinel_inbound: str
    sentinels: int = 0

    def sentinel(self) -> None:
        """Page the sentinel and wait for its email: every earlier due step has run by then."""
        self.sentinels += 1
        self.server.press(self.sentinel_inbound, f"sentinel-{self.sentinels}", "On")
        mail_to(self.box, "sentinel@example.org", self.sentinels)

    def step_two_queued(self, alert_id: int) -> bool:
        pages = self.server.escalation(alert_id)["notifications"]
        return any(p["step"] == 2 for p in pages)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with smtp_server() as (box, smtp_port):
        clock = ClockFile(tmp_path / "clock")
        server = AlertServer(tmp_path / "data", tmp_path / "server.log", smtp_port, clock)
        server.start()
        try:
            alice = server.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
            bob = server.create("/api/v1/users", {"name": "Bob", "email": "bob@example.org"})
            watcher = server.create(
                "/api/v1/users", {"name": "Sentinel", "email": "sentinel@example.org"}
            )
            policy = server.create(
                "/api/v1/escalation-policies",
                {
                    "name": "Front desk",
                    "steps": [
                        {"after_s": 0, "notify": [{"user": alice}]},
                        {"after_s": 300, "notify": [{"user": bob}]},
                    ],
                },
            )
            sentinel_policy = server.create(
                "/api/v1/escalation-policies",
                {"name": "sentinel", "steps": [{"after_s": 0, "notify": [{"user": watcher}]}]},
            )
            yield Desk(
                server,
                box,
                clock,
                server.integration("front desk", policy),
                server.integration("sentinel", sentinel_policy),
            )
        finally:
            server.stop()


def opened(desk: Desk) -> int:
    """Press On; wait for step 1's email to Alice; the alert id."""
    answer = desk.server.press(desk.inbound, "front-desk", "On")
    assert (answer["status"], answer["action"]) == ("mapped", "open")
    mail_to(desk.box, "alice@example.org")
    return int(answer["alert_id"])


def test_step_one_emails_at_once_and_step_two_after_its_delay(desk: Desk) -> None:
    alert_id = opened(desk)
    [alice_mail] = desk.box.to("alice@example.org")
    assert "front-desk pressed" in alice_mail["Subject"]
    desk.clock.advance(299)
    desk.sentinel()
    assert desk.box.to("bob@example.org") == []
    assert not desk.step_two_queued(alert_id)
    desk.clock.advance(1)
    mail_to(desk.box, "bob@example.org")
    timeline = desk.server.get(f"/api/v1/alerts/{alert_id}")["timeline"]
    sent = [e["detail"] for e in timeline if e["kind"] == "notification_sent"]
    assert [d.split("(")[1].split(")")[0] for d in sent] == ["Alice", "Bob"]


def test_the_acknowledge_link_in_the_email_stops_everything(desk: Desk) -> None:
    alert_id = opened(desk)
    ack = link(desk.box.to("alice@example.org")[0], "Acknowledge")
    assert ack.startswith(desk.server.url + "/l/")
    page = httpx.get(ack, timeout=10)  # what a phone shows: a button, nothing done yet
    assert page.status_code == 200
    assert "<form method='post'>" in page.text
    assert desk.server.get(f"/api/v1/alerts/{alert_id}")["status"] == "open"
    done = httpx.post(ack, timeout=10)
    assert done.status_code == 200
    assert "acknowledged" in done.text
    alert = desk.server.get(f"/api/v1/alerts/{alert_id}")
    assert alert["status"] == "acknowledged"
    wait_until(lambda: desk.server.escalation(alert_id)["status"] == "stopped", what="stop")
    desk.clock.advance(3600)
    desk.sentinel()
    assert desk.box.to("bob@example.org") == []
    assert not desk.step_two_queued(alert_id)
    assert desk.server.escalation(alert_id)["reason"] == "acknowledged"
    # The close link from the same email still works; a forged one does not.
    close = link(desk.box.to("alice@example.org")[0], "Close")
    assert httpx.post(close, timeout=10).status_code == 200
    assert desk.server.get(f"/api/v1/alerts/{alert_id}")["status"] == "closed"
    assert httpx.post(close[:-3] + "AAA", timeout=10).status_code == 403


def test_the_off_press_stops_everything(desk: Desk) -> None:
    alert_id = opened(desk)
    answer = desk.server.press(desk.inbound, "front-desk", "Off")
    assert (answer["action"], answer["alert_id"]) == ("close", alert_id)
    wait_until(lambda: desk.server.escalation(alert_id)["status"] == "stopped", what="stop")
    desk.clock.advance(3600)
    desk.sentinel()
    assert desk.box.to("bob@example.org") == []
    assert not desk.step_two_queued(alert_id)
    assert desk.server.escalation(alert_id)["reason"] == "closed"


def test_a_duplicate_press_does_not_page_again(desk: Desk) -> None:
    alert_id = opened(desk)
    again = desk.server.press(desk.inbound, "front-desk", "On")
    assert (again["status"], again["alert_id"]) == ("mapped_appended", alert_id)
    desk.sentinel()
    assert len(desk.box.to("alice@example.org")) == 1
    assert len(desk.server.escalation(alert_id)["notifications"]) == 1


def test_a_restart_between_steps_delivers_step_two_exactly_once(desk: Desk) -> None:
    alert_id = opened(desk)
    wait_until(
        lambda: desk.server.escalation(alert_id)["notifications"][0]["status"] == "sent",
        what="step 1 recorded as sent",
    )
    desk.server.kill()  # a power cut between step 1 and step 2
    desk.clock.advance(300)
    desk.server.start()
    mail_to(desk.box, "bob@example.org")
    desk.sentinel()
    desk.clock.advance(3600)
    desk.sentinel()
    assert len(desk.box.to("alice@example.org")) == 1
    assert len(desk.box.to("bob@example.org")) == 1
    assert [p["step"] for p in desk.server.escalation(alert_id)["notifications"]] == [1, 2]


def test_push_and_sms_contacts_get_the_page_through_apprise(desk: Desk) -> None:
    with http_receiver() as (inbox, port):
        inbox.reply = b'{"result": {"message_id": 7, "status": "ok"}}'
        dana = desk.server.create(
            "/api/v1/users",
            {
                "name": "Dana",
                "contacts": [
                    f"json://127.0.0.1:{port}/push",
                    f"smseagle://tok@127.0.0.1:{port}/+15551230000",
                ],
            },
        )
        policy = desk.server.create(
            "/api/v1/escalation-policies",
            {"name": "dana", "steps": [{"after_s": 0, "notify": [{"user": dana}]}]},
        )
        inbound = desk.server.integration("dana's button", policy)
        alert_id = desk.server.press(inbound, "back-door", "On")["alert_id"]
        wait_until(lambda: inbox.on("/push") and inbox.on("/jsonrpc/sms"), what="push + sms")
        wait_until(
            lambda: (
                [p["status"] for p in desk.server.escalation(alert_id)["notifications"]]
                == ["sent", "sent"]
            ),
            what="both recorded as sent",
        )
        metrics = httpx.get(desk.server.url + "/metrics", timeout=10).text
        lines = [ln for ln in metrics.splitlines() if ln.startswith("alert_server_notifications")]
        sms_sent = [ln for ln in lines if 'kind="sms"' in ln and 'outcome="sent"' in ln]
        assert [ln.rsplit(" ", 1)[1] for ln in sms_sent] == ["1"], lines
