"""Urgent alerts page the integration's `urgent_policy_id`; pages say the priority.

A real alert-server pages through a real SMTP server. A hold (the bridge's
`"priority": "urgent"`) reaches the night nurse through the urgent policy, at once and with
URGENT in the subject; a normal press on the same integration pages the desk as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import smtp_server


def test_urgent_alerts_page_the_urgent_policy_and_say_so(tmp_path: Path) -> None:
    with smtp_server() as (box, smtp_port):
        server = AlertServer(
            tmp_path / "data", tmp_path / "server.log", smtp_port, ClockFile(tmp_path / "clock")
        )
        server.start()
        try:
            desk = server.create("/api/v1/users", {"name": "Desk", "email": "desk@example.org"})
            nurse = server.create("/api/v1/users", {"name": "Nurse", "email": "nurse@example.org"})
            normal = server.create(
                "/api/v1/escalation-policies",
                {"name": "desk", "steps": [{"after_s": 0, "notify": [{"user": desk}]}]},
            )
            urgent = server.create(
                "/api/v1/escalation-policies",
                {"name": "urgent", "steps": [{"after_s": 0, "notify": [{"user": nurse}]}]},
            )
            with server.admin() as admin:
                made = admin.post(
                    "/api/v1/integrations",
                    json={
                        "name": "ward",
                        "escalation_policy_id": normal,
                        "urgent_policy_id": urgent,
                    },
                )
                assert made.status_code == 201, made.text
                assert made.json()["urgent_policy_id"] == urgent
                path = made.json()["inbound_path"]

            held = {"flic_nameId": "bed-9", "flic_state": "On", "priority": "urgent"}
            answer = httpx.post(server.url + path, content=json.dumps(held), timeout=10)
            assert answer.status_code == 202
            (page,) = mail_to(box, "nurse@example.org")
            assert page["Subject"].startswith("[flic-edge] URGENT Alert #")
            assert "Priority: urgent" in page.get_content()

            server.press(path, "bed-10", "On")  # a normal press: the desk's policy
            (desk_page,) = mail_to(box, "desk@example.org")
            assert "URGENT" not in desk_page["Subject"]
            assert "bed-10" in desk_page["Subject"]
            assert len(box.to("nurse@example.org")) == 1
            assert [
                m["Subject"] for m in box.to("desk@example.org") if "bed-9" in m["Subject"]
            ] == []
        finally:
            server.stop()
