"""The console and the admin API work through either server: one login, one set of records."""

from __future__ import annotations

import re

import httpx

from tests.escalation.harness import link, mail_to
from tests.escalation.receivers import Mailbox
from tests.ha.conftest import MakeCluster
from tests.support.cluster import ADMIN_TOKEN, Cluster, Node


def csrf_in(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def log_in(node: Node) -> str:
    """Log in to `node`'s console with the admin token; the session cookie."""
    with httpx.Client(base_url=node.url, timeout=15.0) as browser:
        form = browser.get("/login")
        answer = browser.post("/login", data={"csrf_token": csrf_in(form), "token": ADMIN_TOKEN})
        assert answer.status_code == 303, answer.text
        return str(browser.cookies["console_session"])


def console(node: Node, session: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, cookies={"console_session": session}, timeout=15.0)


def test_a_console_login_on_one_server_works_on_the_other_until_logout(pair: Cluster) -> None:
    a, b = pair.a, pair.b
    path = a.integration("ward 3")
    alert_id = a.press(path, "bed-1", "On").json()["alert_id"]
    session = log_in(a)

    with console(b, session) as browser:
        page = browser.get("/")
        assert page.status_code == 200, page.headers.get("location")
        assert "bed-1 pressed" in page.text  # the alert opened through the other server
        done = browser.post(
            f"/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf_in(page), "back": "/"}
        )
        assert done.status_code == 303, done.text
    assert a.get(f"/api/v1/alerts/{alert_id}")["status"] == "acknowledged"
    timeline = a.get(f"/api/v1/alerts/{alert_id}")["timeline"]
    assert any(e["kind"] == "acknowledge" and "console" in e["detail"] for e in timeline)

    with console(a, session) as browser:
        page = browser.get("/")
        assert browser.post("/logout", data={"csrf_token": csrf_in(page)}).status_code == 303
    with console(b, session) as browser:
        after = browser.get("/")
    assert after.status_code in (302, 303, 307)
    assert "/login" in after.headers["location"]


def test_records_made_on_one_server_are_used_and_deleted_on_the_other_at_once(
    pair: Cluster,
) -> None:
    a, b = pair.a, pair.b
    made = a.create("/api/v1/integrations", {"name": "lobby", "kind": "flic"})
    path = made["inbound_path"]
    assert a.press(path, "lobby", "On").json()["action"] == "open"  # A knows the token now
    assert b.press(path, "lobby", "Off").json()["action"] == "close"
    assert [i["name"] for i in b.get("/api/v1/integrations")["items"]] == ["lobby"]
    user = b.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
    assert a.get(f"/api/v1/users/{user['id']}")["name"] == "Alice"

    with b.client() as admin:
        assert admin.delete(f"/api/v1/integrations/{made['id']}").status_code == 204
    # Gone for both at once, also for the server that had just used the token.
    assert a.press(path, "lobby", "On").status_code == 404
    assert b.press(path, "lobby", "On").status_code == 404
    assert a.get("/api/v1/integrations")["items"] == []


def test_a_link_in_a_page_sent_by_one_server_works_on_the_other(
    make_cluster: MakeCluster, smtp: tuple[Mailbox, int]
) -> None:
    box, smtp_port = smtp
    cluster = make_cluster(smtp_port=smtp_port, tick_s=0.2).start()
    a, b = cluster.a, cluster.b
    alice = a.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
    policy = a.create(
        "/api/v1/escalation-policies",
        {"name": "desk", "steps": [{"after_s": 0, "notify": [{"user": alice["id"]}]}]},
    )
    path = a.integration("desk", policy["id"])
    alert_id = a.press(path, "desk", "On").json()["alert_id"]
    (page,) = mail_to(box, "alice@example.org")
    ack = link(page, "Acknowledge")
    # Whichever server signed it, the other one honours it (the same link secret).
    for node in cluster.nodes:
        ack = ack.replace(node.url, "")
    senders = [n for n in cluster.nodes if any(i == alert_id for i, _ in n.pages_sent())]
    other = b if senders == [a] else a
    answer = httpx.post(other.url + ack, timeout=15.0)
    assert answer.status_code == 200, answer.text
    assert "acknowledged" in answer.text
    assert a.get(f"/api/v1/alerts/{alert_id}")["status"] == "acknowledged"
