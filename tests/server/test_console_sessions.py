"""The console's session store on a real database: expiry, the cap, logout, deleted users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.app.schema import all_migrations
from server.console.sessions import MAX_SESSIONS, SessionStore
from server.db.connection import open_database

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_sessions_expire_end_on_logout_and_go_with_their_user(tmp_path: Path) -> None:
    db = open_database(tmp_path, all_migrations())
    try:
        store = SessionStore(db, ttl_s=3600)
        admin = store.create("admin", NOW)
        db.execute(
            "INSERT INTO users (id, name, contacts, created_at) VALUES (7, 'alice', '[]', ?)",
            [NOW.isoformat()],
        )
        alice = store.create("alice", NOW, user_id=7)
        other = store.create("admin", NOW)

        found = store.find(admin.session_id, NOW + timedelta(minutes=59))
        expired = store.find(admin.session_id, NOW + timedelta(minutes=60))
        store.drop(other.session_id)
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM users WHERE id = 7")
        db.execute("COMMIT")

        assert found == admin
        assert expired is None
        assert store.find(other.session_id, NOW) is None
        assert store.find(alice.session_id, NOW) is None
        assert store.find("made-up", NOW) is None
        assert store.count(NOW) == 1
    finally:
        db.conn.close()


def test_past_the_cap_the_oldest_sessions_go_first(tmp_path: Path) -> None:
    db = open_database(tmp_path, all_migrations())
    try:
        store = SessionStore(db)
        first = store.create("admin", NOW)
        second = store.create("admin", NOW + timedelta(seconds=1))
        for i in range(MAX_SESSIONS - 1):
            store.create("admin", NOW + timedelta(seconds=2 + i))
        later = NOW + timedelta(seconds=MAX_SESSIONS + 1)

        assert store.count(later) == MAX_SESSIONS
        assert store.find(first.session_id, later) is None
        assert store.find(second.session_id, later) == second
    finally:
        db.conn.close()
