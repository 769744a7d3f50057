"""`ack_timeout_s`: an acknowledged alert not closed in time is open again and pages again.

The real alert-server, a real SMTP server, and the escalation clock in a file the test moves:
Alice acknowledges and never arrives; the server is restarted meanwhile; once the timeout
has passed the alert is open again, on the timeline as `ack_timeout`, and Alice is paged
again from the first step. A closed alert never comes back.
"""

from __future__ import annotations

from pathlib import Path

from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import smtp_server
from tests.support.procs import wait_until


def test_an_acknowledgement_that_times_out_opens_and_pages_again_across_a_restart(
    tmp_path: Path,
) -> None:
    with smtp_server() as (box, smtp_port):
        clock = ClockFile(tmp_path / "clock")
        server = AlertServer(tmp_path / "data", tmp_path / "server.log", smtp_port, clock)
        server.start()
        try:
            alice = server.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
            policy = server.create(
                "/api/v1/escalation-policies",
                {
                    "name": "desk",
                    "ack_timeout_s": 600,
                    "steps": [{"after_s": 0, "notify": [{"user": alice}]}],
                },
            )
            assert server.get(f"/api/v1/escalation-policies/{policy}")["ack_timeout_s"] == 600
            inbound = server.integration("desk", policy)
            alert_id = server.press(inbound, "front-desk", "On")["alert_id"]
            other = server.press(inbound, "lobby", "On")["alert_id"]
            mail_to(box, "alice@example.org", 2)
            with server.admin() as admin:
                for each in (alert_id, other):
                    assert admin.post(f"/api/v1/alerts/{each}/acknowledge").status_code == 200
                assert admin.post(f"/api/v1/alerts/{other}/close").status_code == 200

            clock.advance(300)  # half the timeout: still acknowledged
            server.stop()
            server.start()
            assert server.get(f"/api/v1/alerts/{alert_id}")["status"] == "acknowledged"

            server.stop()
            clock.advance(360)  # well past it (the clock file started before the ack), server down
            server.start()
            wait_until(
                lambda: server.get(f"/api/v1/alerts/{alert_id}")["status"] == "open",
                what="the alert to open again",
            )

            def pages_about(title: str) -> list[str]:
                """Pages, not the word-back notes (those say who acknowledged or closed)."""
                return [
                    str(m["Subject"]) for m in box.to("alice@example.org") if title in m["Subject"]
                ]

            wait_until(lambda: len(pages_about("front-desk pressed")) == 2, what="the second page")
            kinds = [e["kind"] for e in server.get(f"/api/v1/alerts/{alert_id}")["timeline"]]
            assert kinds.index("acknowledge") < kinds.index("ack_timeout")
            assert kinds.count("escalation_started") == 2
            entry = next(
                e
                for e in server.get(f"/api/v1/alerts/{alert_id}")["timeline"]
                if e["kind"] == "ack_timeout"
            )
            assert "not closed within 600 s" in entry["detail"]
            assert server.get(f"/api/v1/alerts/{other}")["status"] == "closed"
            assert len(pages_about("lobby pressed")) == 1  # the closed alert paged nobody again
        finally:
            server.stop()
