"""SQLite online backup and restore, and the startup check that quarantines a damaged file."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from edgecommon import sqlite_check
from edgecommon.timefmt import file_stamp
from server.errors import AlertServerError

log = logging.getLogger("server.backup")


class BackupError(AlertServerError):
    """A backup or restore could not be made; the message says why."""


def quick_check(path: Path) -> str | None:
    """None when `path` is a healthy SQLite database, else what is wrong (edgecommon's check)."""
    try:
        return sqlite_check.quick_check(path)
    except sqlite_check.SqliteCheckError as exc:
        raise BackupError(str(exc)) from exc


def quarantine_if_damaged(db_path: Path, now: datetime) -> Path | None:
    """Move a damaged database (and its WAL) aside; where it went, or None when healthy."""
    try:
        return sqlite_check.quarantine_if_damaged(db_path, now)
    except sqlite_check.SqliteCheckError as exc:
        raise BackupError(str(exc)) from exc


def _copy(src: sqlite3.Connection, dest_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(dest_path)) as dest:
        src.backup(dest)
        dest.commit()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(db_path: Path, dest_path: Path) -> Path:
    """Copy a live database to `dest_path` with SQLite's online backup; atomic and fsynced."""
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    if dest_path.is_dir():
        raise BackupError(f"{dest_path} is a directory; give a file name")
    if not dest_path.parent.is_dir():
        raise BackupError(f"directory {dest_path.parent} does not exist")
    tmp = dest_path.with_name(f".{dest_path.name}.partial")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # tokens inside
    try:
        with contextlib.closing(sqlite3.connect(sqlite_check.ro_uri(db_path), uri=True)) as src:
            _copy(src, tmp)
        with contextlib.closing(sqlite3.connect(tmp)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        _fsync(tmp)
        tmp.replace(dest_path)
        _fsync(dest_path.parent)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"backup of {db_path} failed: {exc}") from exc
    hand_back(db_path.parent)  # the look at the live database may have made -wal/-shm
    log.info("backed up %s to %s", db_path, dest_path)
    return dest_path


def restore(backup_path: Path, db_path: Path, now: datetime) -> Path | None:
    """Replace the database's content with a backup's; the current content is kept aside.

    Stop the program first. Returns where the previous database was saved (None if none).
    """
    if not backup_path.is_file():
        raise BackupError(f"no backup file at {backup_path}")
    problem = quick_check(backup_path)
    if problem is not None:
        raise BackupError(f"{backup_path} is not a usable database backup: {problem}")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    previous: Path | None = None
    try:
        if db_path.exists():
            previous = db_path.with_name(f"{db_path.name}.pre-restore-{file_stamp(now)}")
            backup(db_path, previous)
        # Owner only whatever the umask: the database holds tokens and password hashes.
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(db_path, 0o600)
        with contextlib.closing(sqlite3.connect(sqlite_check.ro_uri(backup_path), uri=True)) as src:
            _copy(src, db_path)
        for sidecar in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(db_path.with_name(db_path.name + sidecar), 0o600)
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {db_path} failed: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"restore into {db_path} failed: {exc.strerror}") from exc
    hand_back(db_path.parent)
    log.info("restored %s from %s (previous content saved as %s)", db_path, backup_path, previous)
    return previous


def hand_back(data_dir: Path) -> list[Path]:
    """Run as root on a service's data dir: give the files root made back to the dir's owner.

    SQLite creates `-wal`/`-shm` beside a database even for a read-only look; left owned by
    root, they would stop the service (its own user) from opening the database.
    """
    if os.geteuid() != 0 or not data_dir.is_dir():
        return []
    owner = data_dir.stat()
    if owner.st_uid == 0:
        return []
    changed = []
    for path in data_dir.iterdir():
        info = path.lstat()
        if path.is_file() and not path.is_symlink() and info.st_uid != owner.st_uid:
            os.chown(path, owner.st_uid, owner.st_gid)
            changed.append(path)
    return changed
