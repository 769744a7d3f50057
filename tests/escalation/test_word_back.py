"""Word back: once someone acknowledges or closes, everyone already paged hears who did.

A real alert-server pages Alice and Bob through a real SMTP server. Alice acknowledges in the
console with her password; both get "Alice (console) is on it: front-desk", Carol (never
paged: her step had not come) gets nothing; the button's Off then closes it and both hear so.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import smtp_server
from tests.support.procs import wait_until


def console_acknowledge(server: AlertServer, alert_id: int, login: str, password: str) -> None:
    """Log in to the console with a password and press Acknowledge, as a browser would."""
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=10) as browser:
        form = browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf, form.text
        browser.post(
            "/login",
            data={"csrf_token": csrf.group(1), "login": login, "password": password, "next": "/"},
        )
        page = browser.get(f"/alerts/{alert_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        done = browser.post(
            f"/alerts/{alert_id}/acknowledge",
            data={"csrf_token": token.group(1), "back": f"/alerts/{alert_id}"},
        )
        assert done.status_code == 200


def test_everyone_paged_hears_who_acknowledged_and_who_closed(tmp_path: Path) -> None:
    with smtp_server() as (box, smtp_port):
        server = AlertServer(
            tmp_path / "data", tmp_path / "server.log", smtp_port, ClockFile(tmp_path / "clock")
        )
        server.start()
        try:
            alice = server.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
            bob = server.create("/api/v1/users", {"name": "Bob", "email": "bob@example.org"})
            carol = server.create("/api/v1/users", {"name": "Carol", "email": "carol@example.org"})
            with server.admin() as admin:
                set_pw = admin.post(
                    f"/api/v1/users/{alice}/password", json={"password": "alice long pass"}
                )
                assert set_pw.status_code in (200, 204), set_pw.text
            policy = server.create(
                "/api/v1/escalation-policies",
                {
                    "name": "desk",
                    "steps": [
                        {"after_s": 0, "notify": [{"user": alice}, {"user": bob}]},
                        {"after_s": 900, "notify": [{"user": carol}]},
                    ],
                },
            )
            inbound = server.integration("desk", policy)
            alert_id = server.press(inbound, "front-desk", "On")["alert_id"]
            mail_to(box, "alice@example.org")
            mail_to(box, "bob@example.org")

            console_acknowledge(server, alert_id, "Alice", "alice long pass")
            for who in ("alice@example.org", "bob@example.org"):
                told = mail_to(box, who, 2)[-1]
                assert told.get_content().strip() == "Alice (console) is on it: front-desk"
                assert f"Alert #{alert_id}" in told["Subject"]

            server.press(inbound, "front-desk", "Off")
            for who in ("alice@example.org", "bob@example.org"):
                closed = mail_to(box, who, 3)[-1]
                assert closed.get_content().strip() == "the source closed it: front-desk"

            def notified() -> list[str]:
                timeline = server.get(f"/api/v1/alerts/{alert_id}")["timeline"]
                return [e["detail"] for e in timeline if e["kind"] == "responder_notified"]

            details = wait_until(lambda: notified() if len(notified()) == 2 else None)
            assert details[0].startswith("Alice (console) is on it: front-desk; told 2")
            assert "alice@example.org sent" in details[0]
            assert "bob@example.org sent" in details[0]
            assert box.to("carol@example.org") == []  # never paged, so never told
        finally:
            server.stop()
