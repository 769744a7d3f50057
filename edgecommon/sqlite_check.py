"""The startup integrity check that moves a damaged SQLite file aside instead of crash-looping."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

from edgecommon.timefmt import file_stamp

log = logging.getLogger(__name__)

SIDECARS = ("-wal", "-shm", "-journal")


class SqliteCheckError(Exception):
    """The file could not be checked at all (locked, unreadable): nothing says it is damaged."""


def ro_uri(path: Path) -> str:
    """A read-only `file:` URI for `path`, for sqlite3.connect(..., uri=True)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def quick_check(path: Path) -> str | None:
    """None when `path` is a healthy SQLite database, else what is wrong with it.

    Errors that say nothing about the file's health (locked, unreadable) are raised.
    """
    try:
        with contextlib.closing(sqlite3.connect(ro_uri(path), uri=True)) as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return str(exc)
        raise SqliteCheckError(f"cannot check {path}: {exc}") from exc
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return "; ".join(problems[:5]) if problems else None


def quarantine_if_damaged(db_path: Path, now: datetime) -> Path | None:
    """Move a damaged database (and its WAL) aside so the program can start fresh.

    Returns where the damaged file went, or None when the file is missing or healthy.
    """
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    problem = quick_check(db_path)
    if problem is None:
        return None
    target = db_path.with_name(f"{db_path.name}.corrupt-{file_stamp(now)}")
    for suffix in ("", *SIDECARS):
        src = Path(f"{db_path}{suffix}")
        if src.exists():
            src.rename(Path(f"{target}{suffix}"))
    log.error(
        "database %s failed its integrity check (%s): moved it to %s and starting fresh",
        db_path,
        problem,
        target,
    )
    return target
