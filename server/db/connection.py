"""Opening the SQLite database (WAL, synchronous=FULL, migrations) and its single writer thread."""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import sqlite_utils

from server.db.migrate import Migration, migrate
from server.errors import AlertServerError

DB_FILENAME = "alert-server.db"

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseError(AlertServerError):
    """The database cannot be opened or migrated."""


def open_database(data_dir: Path, migrations: Sequence[Migration]) -> sqlite_utils.Database:
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
        db = sqlite_utils.Database(conn, execute_plugins=False)
        migrate(db, migrations)
    except sqlite3.Error as exc:
        conn.close()
        raise DatabaseError(f"cannot prepare the database in {data_dir}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One durable write transaction (BEGIN IMMEDIATE ... COMMIT) on an autocommit connection."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        # Also when COMMIT itself failed (disk full): never leave a transaction open.
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise


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
