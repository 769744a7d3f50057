"""Console sessions live in the database: a restart keeps a login, a logout ends it everywhere."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import log_in, running_server
from tests.e2e.programs import AlertServer

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AlertServer]:
    """A server of this test's own: the test restarts it."""
    with running_server(tmp_path) as running:
        yield running


def test_a_login_outlives_a_restart_and_a_logout_ends_it(
    context: BrowserContext, server: AlertServer
) -> None:
    page = context.new_page()
    log_in(page, server, "/inbound")
    (cookie,) = [c for c in context.cookies() if c["name"] == "console_session"]
    with sqlite3.connect(server.data_dir / "alert-server.db") as db:
        stored = [row[0] for row in db.execute("SELECT id_hash FROM console_sessions")]
    assert len(stored) == 1
    assert cookie["value"] not in stored  # the database keeps a hash, not the cookie

    server.stop()
    server.start()
    page.goto(server.url + "/inbound")
    assert page.url == server.url + "/inbound"  # still logged in: no trip to /login
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    context.add_cookies([{**cookie}])  # the old cookie, put back by hand, opens nothing
    page.goto(server.url + "/inbound")
    assert re.search(r"/login\b", page.url), page.url
