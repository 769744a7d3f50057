"""A test page per contact: the API and the console's button, through a real SMTP server.

An installer proves each phone and mailbox: Ann's email arrives in the real inbox, and her
push URL that nothing answers is reported as failed, each on its own line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import Mailbox, smtp_server
from tests.support.procs import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[AlertServer, Mailbox]]:
    with smtp_server() as (box, smtp_port):
        server = AlertServer(
            tmp_path / "data", tmp_path / "server.log", smtp_port, ClockFile(tmp_path / "clock")
        )
        server.start()
        try:
            yield server, box
        finally:
            server.stop()


def test_test_page_reaches_each_contact_and_says_which_failed(
    site: tuple[AlertServer, Mailbox], context: BrowserContext
) -> None:
    server, box = site
    dead = f"json://127.0.0.1:{free_port()}/"  # a push URL where nothing listens
    ann = server.create(
        "/api/v1/users", {"name": "Ann", "email": "ann@example.org", "contacts": [dead]}
    )
    with server.admin() as admin:
        answer = admin.post(f"/api/v1/users/{ann}/test-page")
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [(r["kind"], r["contact"], r["status"]) for r in results] == [
            ("email", "ann@example.org", "sent"),
            ("push", "json://…", "failed"),
        ]
        assert results[1]["error"]
        assert admin.post("/api/v1/users/999/test-page").status_code == 404
        nobody = server.create("/api/v1/users", {"name": "Nobody"})
        empty = admin.post(f"/api/v1/users/{nobody}/test-page")
        assert empty.status_code == 422
        assert "no email or contact URL" in empty.json()["detail"]
    (mail,) = mail_to(box, "ann@example.org")
    assert mail["Subject"] == "[flic-edge] Test page: Ann, this is a test"
    assert "Nothing to do" in mail.get_content()
    assert dead not in answer.text  # contact URLs may carry secrets: only the scheme is shown

    page = context.new_page()
    page.goto(server.url + f"/login?next=/people/users/{ann}")
    page.get_by_label("Admin token").fill((server.data_dir / "admin-token").read_text().strip())
    page.get_by_role("button", name="Log in as admin").click()
    page.get_by_role("button", name="Send a test page").click()
    notice = page.locator("#test-page [role=status]")
    expect(notice).to_contain_text("email ann@example.org: sent")
    expect(notice).to_contain_text("push json://…: failed")
    mail_to(box, "ann@example.org", 2)
