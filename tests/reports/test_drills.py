"""Drills through the real server: marked, paged with DRILL everywhere, reported apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.escalation.harness import AlertServer, ClockFile, flic_body, link, mail_to
from tests.escalation.receivers import HttpInbox, Mailbox, http_receiver, smtp_server
from tests.support.procs import wait_until


@pytest.fixture
def paged(tmp_path: Path) -> Iterator[tuple[AlertServer, Mailbox, HttpInbox, int]]:
    """A server paging Dana by email and by push (Apprise json://) at once."""
    with smtp_server() as (box, smtp_port), http_receiver() as (inbox, push_port):
        server = AlertServer(
            tmp_path / "data", tmp_path / "server.log", smtp_port, ClockFile(tmp_path / "clock")
        )
        server.start()
        try:
            dana = server.create(
                "/api/v1/users",
                {
                    "name": "Dana",
                    "email": "dana@example.org",
                    "contacts": [f"json://127.0.0.1:{push_port}/push"],
                },
            )
            policy = server.create(
                "/api/v1/escalation-policies",
                {"name": "ward", "steps": [{"after_s": 0, "notify": [{"user": dana}]}]},
            )
            yield server, box, inbox, policy
        finally:
            server.stop()


def test_a_drill_pages_with_drill_everywhere_and_is_reported_apart(
    paged: tuple[AlertServer, Mailbox, HttpInbox, int],
) -> None:
    server, box, inbox, policy = paged
    flic = server.integration("ward b", policy)
    with server.admin() as admin:
        generic = admin.post(
            "/api/v1/integrations",
            json={
                "name": "nurse call",
                "kind": "generic",
                "escalation_policy_id": policy,
                "mapping": {
                    "source_name": {"field": "source"},
                    "status": {"field": "status"},
                    "open_when": {"equals": "firing"},
                    "title": "{{ source }} calls",
                },
            },
        ).json()["inbound_path"]

    drill = httpx.post(
        server.url + flic, content=flic_body("room-12", "On") + '"drill": true,\n', timeout=10
    ).json()
    mails = mail_to(box, "dana@example.org", 1)
    real = server.press(flic, "room-3", "On")
    mails = mail_to(box, "dana@example.org", 2)
    generic_drill = httpx.post(
        server.url + generic,
        json={"source": "bed-4", "status": "firing", "drill": True},
        timeout=10,
    ).json()
    mails = mail_to(box, "dana@example.org", 3)
    wait_until(lambda: len(inbox.on("/push")) >= 3, what="three pushes")

    subjects = {m["X-Flic-Edge-Alert"]: str(m["Subject"]).strip() for m in mails}
    assert subjects[str(drill["alert_id"])].startswith("DRILL: ")
    assert subjects[str(generic_drill["alert_id"])].startswith("DRILL: ")
    assert "DRILL" not in subjects[str(real["alert_id"])]
    for mail in mails:
        is_drill = mail["X-Flic-Edge-Alert"] != str(real["alert_id"])
        assert ("DRILL" in mail.get_content()) is is_drill
    pushes = [json.loads(r.body) for r in inbox.on("/push")]
    assert sorted("DRILL" in p["title"] and "DRILL" in p["message"] for p in pushes) == [
        False,
        True,
        True,
    ]
    assert server.get(f"/api/v1/alerts/{drill['alert_id']}")["drill"] is True
    assert server.get(f"/api/v1/alerts/{real['alert_id']}")["drill"] is False

    # Dana acknowledges the Flic drill from her email: room-12 is proven to reach a person.
    room_12 = next(m for m in mails if m["X-Flic-Edge-Alert"] == str(drill["alert_id"]))
    ack_page = httpx.get(link(room_12, "Acknowledge"), timeout=10)
    assert ack_page.status_code == 200
    form = httpx.post(link(room_12, "Acknowledge"), timeout=10)
    assert form.status_code == 200, form.text
    acked = server.get(f"/api/v1/alerts/{drill['alert_id']}")
    assert acked["status"] == "acknowledged"
    # Those already paged are told who took it: that note says DRILL too.
    told = mail_to(box, "dana@example.org", 4)[3]
    assert told["X-Flic-Edge-Alert"] == str(drill["alert_id"])
    assert str(told["Subject"]).strip().startswith("DRILL: ")
    assert told.get_content().startswith("DRILL: ")
    assert "is on it: room-12" in told.get_content()

    drills = {d["source"]: d for d in server.get("/api/v1/reports/drills")["items"]}
    assert drills["room-12"]["last_proven_at"] == acked["acknowledged_at"]
    assert drills["room-12"]["drills"] == 1
    assert drills["bed-4"]["drills"] == 1
    assert drills["bed-4"]["last_proven_at"] is None  # paged, but nobody acknowledged yet
    assert drills["room-3"]["drills"] == 0
    times = server.get("/api/v1/reports/response-times?group_by=source")
    assert [(r["key"], r["alerts"]) for r in times["items"]] == [("room-3", 1)]
