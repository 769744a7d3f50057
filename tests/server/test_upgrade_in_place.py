"""A database made by the previous release (commit 36be9d8, before the domain packages) opens
with today's code and keeps every row: integrations, users, alerts, timelines, the inbound log."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.alerts.store import Store
from server.app.schema import all_migrations
from server.db.connection import DB_FILENAME, open_database
from tests.support.procs import Proc, free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "36be9d8"
TABLES = ("integrations", "alerts", "alert_events", "inbound_messages", "users")


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


def rows(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db_path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


def test_a_database_from_the_previous_release_upgrades_with_nothing_lost(tmp_path: Path) -> None:
    old = old_tree(tmp_path / "old")
    data = tmp_path / "data"
    port = free_port()
    env = {"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin"}
    proc = Proc(
        [sys.executable, "-m", "server", "run", "--data-dir", str(data), "--port", str(port)],
        log_path=tmp_path / "old.log",
        env=env,
        cwd=old,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(url + "/healthz", proc=proc)
        token = (data / "admin-token").read_text().strip()
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        ) as admin:
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
    finally:
        proc.stop()
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
    for table in TABLES:
        # New columns may follow; every old row keeps its old values, in its old columns.
        assert [r[: len(before[table][0])] for r in after[table]] == before[table], table
