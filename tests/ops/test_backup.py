"""SQLite online backup/restore round-trips; a damaged database is moved aside, not crashed on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from edgecommon import sqlite_check
from edgecommon.sqlite_check import SqliteCheckError
from server.db import backup
from server.db.backup import BackupError

NOW = datetime(2026, 11, 26, 7, 0, 0, tzinfo=UTC)
CHECKERS = pytest.mark.parametrize("mod", [backup, sqlite_check], ids=["server", "edgecommon"])


def make_db(path: Path, rows: list[str]) -> sqlite3.Connection:
    """A WAL database like the programs keep, left open as a live writer."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, title TEXT)")
    conn.executemany("INSERT INTO alerts (title) VALUES (?)", [(r,) for r in rows])
    conn.commit()
    return conn


def titles(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = [r[0] for r in conn.execute("SELECT title FROM alerts ORDER BY id")]
    conn.close()
    return rows


def test_backup_of_a_live_database_then_restore_brings_the_data_back(tmp_path: Path) -> None:
    db = tmp_path / "data" / "alert-server.db"
    db.parent.mkdir()
    live = make_db(db, ["front-desk pressed", "kitchen pressed"])
    try:
        dest = backup.backup(db, tmp_path / "nightly.db")
        assert titles(dest) == ["front-desk pressed", "kitchen pressed"]
        assert not (tmp_path / "nightly.db-wal").exists(), "a backup is one self-contained file"
        assert dest.stat().st_mode & 0o777 == 0o600, "a backup holds tokens: owner only"

        live.execute("DELETE FROM alerts")
        live.execute("INSERT INTO alerts (title) VALUES ('after the backup')")
        live.commit()
    finally:
        live.close()

    previous = backup.restore(dest, db, NOW)
    assert titles(db) == ["front-desk pressed", "kitchen pressed"]
    assert previous == db.with_name("alert-server.db.pre-restore-20261126T070000Z")
    assert titles(previous) == ["after the backup"]
    assert previous.stat().st_mode & 0o777 == 0o600
    assert backup.quick_check(db) is None


def test_restore_into_an_empty_data_dir(tmp_path: Path) -> None:
    src = tmp_path / "backup.db"
    make_db(src, ["one"]).close()
    db = tmp_path / "fresh" / "alert-server.db"
    assert backup.restore(src, db, NOW) is None
    assert titles(db) == ["one"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    db = tmp_path / "alert-server.db"
    make_db(db, ["keep me"]).close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BackupError, match=r"junk\.db is not a usable database backup"):
        backup.restore(junk, db, NOW)
    with pytest.raises(BackupError, match="no backup file"):
        backup.restore(tmp_path / "missing.db", db, NOW)
    assert titles(db) == ["keep me"]


def test_backup_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database at"):
        backup.backup(tmp_path / "none.db", tmp_path / "out.db")
    db = tmp_path / "a.db"
    make_db(db, ["x"]).close()
    with pytest.raises(BackupError, match="does not exist"):
        backup.backup(db, tmp_path / "no-such-dir" / "out.db")
    with pytest.raises(BackupError, match="is a directory"):
        backup.backup(db, tmp_path)


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage after a power cut" * 200)


def torn_page(path: Path) -> None:
    """A real database whose table pages were overwritten (a torn write)."""
    conn = make_db(path, [f"row {i} " + "x" * 200 for i in range(200)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with path.open("r+b") as f:
        f.seek(4096 * 2)
        f.write(b"\xff" * 4096 * 3)


@CHECKERS
@pytest.mark.parametrize("damage", [garbage, torn_page], ids=["garbage", "torn-page"])
def test_a_damaged_database_is_moved_aside_with_a_timestamp(
    mod: ModuleType,
    damage: Callable[[Path], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "outbox.db"
    damage(db)
    assert mod.quick_check(db) is not None
    moved = mod.quarantine_if_damaged(db, NOW)
    assert moved == tmp_path / "outbox.db.corrupt-20261126T070000Z"
    assert moved.exists()
    assert not db.exists()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "integrity check" in errors[0].getMessage()


@CHECKERS
def test_a_healthy_or_missing_database_is_left_alone(mod: ModuleType, tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    assert mod.quarantine_if_damaged(db, NOW) is None
    live = make_db(db, ["ok"])
    try:
        assert mod.quarantine_if_damaged(db, NOW) is None
    finally:
        live.close()
    assert titles(db) == ["ok"]
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []


@CHECKERS
def test_an_unreadable_path_is_an_error_not_a_quarantine(mod: ModuleType, tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    db.mkdir()  # exists, but cannot be opened as a file
    with pytest.raises((BackupError, SqliteCheckError), match="cannot check"):
        mod.quick_check(db)
    assert db.is_dir()


@pytest.mark.parametrize("existing", [False, True], ids=["fresh data dir", "over a database"])
def test_alert_server_restore_writes_the_database_owner_only_under_umask_022(
    tmp_path: Path, existing: bool
) -> None:
    src = tmp_path / "backup.db"
    make_db(src, ["one"]).close()
    src.chmod(0o644)
    data = tmp_path / "data"
    if existing:
        data.mkdir()
        make_db(data / "alert-server.db", ["old"]).close()
        (data / "alert-server.db").chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERT_SERVER_")}
    script = 'umask 022 && exec "$0" -m server restore "$1" --data-dir "$2"'
    done = subprocess.run(
        ["sh", "-c", script, sys.executable, str(src), str(data)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    db = data / "alert-server.db"
    assert titles(db) == ["one"]
    modes = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir() if p.is_file()}
    assert modes, "the restore made no files"
    assert set(modes.values()) == {0o600}, modes
