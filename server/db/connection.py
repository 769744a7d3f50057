"""Opening the SQLite database (WAL, synchronous=FULL, migrations); the one database thread."""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from server.db.engine import SqliteDatabase
from server.db.migrate import Migration, migrate
from server.errors import AlertServerError

DB_FILENAME = "alert-server.db"

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseError(AlertServerError):
    """The database cannot be opened or migrated."""


def open_database(data_dir: Path, migrations: Sequence[Migration]) -> SqliteDatabase:
    """Open (creating if needed) the data dir's database, durable settings on, schema current.

    The connection is in autocommit mode: writers use explicit `BEGIN IMMEDIATE ... COMMIT`,
    and with `synchronous=FULL` a COMMIT returns only once the WAL is on disk.
    """
    path = data_dir / DB_FILENAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not path.exists()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        if created:
            # Tokens live here: owner only (SQLite gives -wal and -shm the same mode).
            os.chmod(path, 0o600)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(f"cannot open the database in {data_dir}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        db = SqliteDatabase(conn)
        migrate(db, migrations)
    except sqlite3.Error as exc:
        conn.close()
        raise DatabaseError(f"cannot prepare the database in {data_dir}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return db


class DbThread:
    """Runs every database call on one thread: one SQLite writer, and the loop never blocks."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-db")

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args, **kwargs)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
