"""A database made by the previous release (commit 36be9d8, before the domain packages) opens
with today's code and keeps every row: integrations, users, alerts, timelines, the inbound log,
and escalation's people, schedules, policies and an escalation in progress, which goes on paging.

The previous release runs as itself (its own `server/` from `git archive`), with its own
`[escalation] test_clock_file`; today's server reads the same clock file through
`tests.support.clocked_server`, so the escalation carries on at the instant it stopped at."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.alerts.store import Store
from server.app.schema import all_migrations
from server.db.connection import DB_FILENAME, open_database
from tests.escalation.harness import AlertServer, ClockFile, mail_to
from tests.escalation.receivers import smtp_server
from tests.support.procs import Proc, free_port, wait_http_ok, wait_until

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "36be9d8"
TABLES = ("integrations", "alerts", "alert_events", "inbound_messages", "users")
ESCALATION_TABLES = (
    "users",
    "user_groups",
    "schedules",
    "schedule_overrides",
    "escalation_policies",
    "escalations",
    "notification_attempts",
)


def old_tree(where: Path) -> Path:
    """The previous release's `server/` package, from git, in `where`."""
    if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", PREVIOUS_RELEASE]).returncode:
        pytest.skip(f"commit {PREVIOUS_RELEASE} is not in this clone")
    where.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "server"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive.stdout, check=True)
    return where


@contextmanager
def old_server(
    tmp_path: Path, data: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[str, httpx.Client]]:
    """The previous release serving `data`: its URL and an admin client; stopped afterwards."""
    old = old_tree(tmp_path / "old")
    port = free_port()
    proc = Proc(
        [sys.executable, "-m", "server", "run", "--data-dir", str(data), "--port", str(port)],
        log_path=tmp_path / "old.log",
        env={"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin", **(env or {})},
        cwd=old,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(url + "/healthz", proc=proc)
        token = (data / "admin-token").read_text().strip()
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        ) as admin:
            yield url, admin
    finally:
        proc.stop()


def rows(db_path: Path, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db_path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


def assert_rows_kept(
    before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]
) -> None:
    for table, old_rows in before.items():
        # New columns may follow; every old row keeps its old values, in its old columns.
        assert [r[: len(old_rows[0])] for r in after[table]] == old_rows, table


def test_a_database_from_the_previous_release_upgrades_with_nothing_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with old_server(tmp_path, data) as (url, admin):
        made = [admin.post("/api/v1/integrations", json={"name": n}) for n in ("a", "b")]
        assert [r.status_code for r in made] == [201, 201]
        user = admin.post("/api/v1/users", json={"name": "Ana", "email": "ana@example.com"})
        assert user.status_code == 201, user.text
        for name, state in (("desk", "On"), ("door", "On"), ("desk", "Off")):
            answer = httpx.post(
                f"{url}/inbound/{made[0].json()['token']}",
                content=json.dumps({"flic_nameId": name, "flic_state": state, "info": "x"}),
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 202, answer.text
        alerts = admin.get("/api/v1/alerts").json()["items"]
        door = next(a for a in alerts if a["source_name"] == "door")
        assert admin.post(f"/api/v1/alerts/{door['id']}/acknowledge").status_code == 200
    before = rows(data / DB_FILENAME)
    assert len(before["integrations"]) == 2
    assert len(before["alerts"]) == 2
    assert len(before["inbound_messages"]) == 3
    assert len(before["users"]) == 1

    store = Store(open_database(data, all_migrations()))
    try:
        after_alerts = {a.source_name: a.status for a in store.list_alerts()}
    finally:
        store.db.conn.close()
    assert after_alerts == {"desk": "closed", "door": "acknowledged"}
    after = rows(data / DB_FILENAME)
    assert_rows_kept(before, after)


def created(admin: httpx.Client, path: str, body: dict[str, Any]) -> int:
    answer = admin.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def press(url: str, token: str, button: str) -> int:
    """Press `button` On at the integration with `token`; the alert it opened."""
    answer = httpx.post(
        f"{url}/inbound/{token}",
        content=json.dumps({"flic_nameId": button, "flic_state": "On", "info": "Front desk"}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["action"] == "open", answer.text
    return int(answer.json()["alert_id"])


def test_escalation_data_from_the_previous_release_is_kept_and_goes_on_paging(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    clock = ClockFile(tmp_path / "clock")
    t0 = clock.at
    old_env = {
        "ALERT_SERVER_ESCALATION_TEST_CLOCK_FILE": str(clock.path),
        "ALERT_SERVER_ESCALATION_TICK_S": "0.05",
        "ALERT_SERVER_ESCALATION_RETRY_BASE_S": "100",
        "ALERT_SERVER_SMTP_HOST": "127.0.0.1",
        "ALERT_SERVER_SMTP_PORT": str(free_port()),  # nothing listens: the first page fails
    }

    def who(admin: httpx.Client, schedule: int, at: timedelta) -> list[str]:
        params = {"schedule_id": schedule, "at": (t0 + at).isoformat()}
        answer = admin.get("/api/v1/oncall", params=params)
        assert answer.status_code == 200, answer.text
        return [u["name"] for u in answer.json()["users"]]

    instants = (timedelta(seconds=300), timedelta(days=1), timedelta(days=7))
    with old_server(tmp_path, data, old_env) as (url, admin):
        ids = {
            name: created(admin, "/api/v1/users", {"name": name, "email": f"{name}@example.org"})
            for name in ("alice", "bob", "carol", "dave", "erin")
        }
        night = created(
            admin, "/api/v1/groups", {"name": "Night", "members": [ids["dave"], ids["erin"]]}
        )
        weekly = {
            "users": [ids["bob"], ids["dave"]],
            "start_date": (t0 - timedelta(days=1)).date().isoformat(),
            "shift_unit": "weeks",
        }
        desk = created(admin, "/api/v1/schedules", {"name": "Desk", "rotations": [weekly]})
        override = {
            "user": ids["carol"],
            "replaces": ids["bob"],
            "start_at": t0.isoformat(),
            "end_at": (t0 + timedelta(hours=1)).isoformat(),
        }
        made = admin.post(f"/api/v1/schedules/{desk}/overrides", json=override)
        assert made.status_code == 201, made.text
        steps = [
            {"after_s": 0, "notify": [{"user": ids["alice"]}]},
            {"after_s": 300, "notify": [{"schedule": desk}]},
            {"after_s": 600, "notify": [{"group": night}]},
        ]
        policy = created(admin, "/api/v1/escalation-policies", {"name": "Desk", "steps": steps})
        answer = admin.post(
            "/api/v1/integrations", json={"name": "desk", "escalation_policy_id": policy}
        )
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]
        alert_id = press(url, token, "front-desk")

        def first_page_failed() -> dict[str, Any] | None:
            found: dict[str, Any] = admin.get(f"/api/v1/escalations/{alert_id}").json()
            pages = found.get("notifications", [])
            return found if pages and pages[0]["attempts"] == 1 else None

        in_progress = wait_until(first_page_failed, what="step 1's first attempt failed")
        on_call_before = [who(admin, desk, at) for at in instants]
    assert on_call_before == [["carol"], ["bob"], ["dave"]]  # the override, then the rotation
    assert (in_progress["status"], in_progress["next_step"]) == ("active", 2)
    [alice_page] = in_progress["notifications"]
    assert (alice_page["status"], alice_page["user_id"]) == ("pending", ids["alice"])
    before = rows(data / DB_FILENAME, ESCALATION_TABLES)
    assert {t: len(r) for t, r in before.items()} == {
        "users": 5,
        "user_groups": 1,
        "schedules": 1,
        "schedule_overrides": 1,
        "escalation_policies": 1,
        "escalations": 1,
        "notification_attempts": 1,
    }

    Store(open_database(data, all_migrations())).db.conn.close()
    assert_rows_kept(before, rows(data / DB_FILENAME, ESCALATION_TABLES))

    with smtp_server() as (box, smtp_port):
        server = AlertServer(data, tmp_path / "server.log", smtp_port, clock).start()
        try:
            with server.admin() as admin:
                assert [who(admin, desk, at) for at in instants] == on_call_before
            page = server.escalation(alert_id)
            assert page["notifications"] == in_progress["notifications"]
            clock.advance(150)  # past the pending page's retry (100 s after its first attempt)
            mail_to(box, "alice@example.org")
            clock.advance(150)  # step 2, 300 s in: the schedule, where Carol stands in for Bob
            mail_to(box, "carol@example.org")
            clock.advance(600)  # step 3: the group
            mail_to(box, "dave@example.org")
            mail_to(box, "erin@example.org")
            done = server.escalation(alert_id)
            assert done["status"] == "finished"
            paged = [(p["step"], p["user_id"]) for p in done["notifications"]]
            assert sorted(paged) == [
                (1, ids["alice"]),
                (2, ids["carol"]),
                (3, ids["dave"]),
                (3, ids["erin"]),
            ]
            assert box.to("bob@example.org") == []
            alice = next(p for p in done["notifications"] if p["user_id"] == ids["alice"])
            assert (alice["status"], alice["attempts"]) == ("sent", 2)
            press(server.url, token, "side-door")  # a new alert: the old policy pages at once
            assert len(mail_to(box, "alice@example.org", 2)) == 2
        finally:
            server.stop()
