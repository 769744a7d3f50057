"""The store seam: the one `Database` every store uses, whichever engine is underneath.

Stores write SQL in SQLite's dialect with `?` placeholders and reach the database only through
`execute` (a cursor: `fetchone`, `fetchall`, iteration, `rowcount`), `query` (rows as dicts) and
`transaction()` (one durable write transaction). `SqliteDatabase` runs the SQL as written;
`server.postgres.database.PostgresDatabase` translates it (placeholders, DDL types, `BEGIN`)
and runs it through psycopg's connection pool. A store that needs a statement only one engine
understands asks `dialect`. Errors a store may act on are named by the instance
(`integrity_errors`, `errors`), so no domain imports a driver.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Literal, Protocol

Params = Sequence[Any] | Mapping[str, Any]
Dialect = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    """What a statement gives back (sqlite3's and psycopg's cursors both are one)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(ABC):
    """One database, used by every store the same way (on the database thread)."""

    dialect: Dialect
    # Exceptions a store may catch: a unique index fired, or any failure of the engine.
    integrity_errors: tuple[type[Exception], ...]
    errors: tuple[type[Exception], ...]
    # Those that mean "the database is unavailable now, retry" (503 with Retry-After).
    unavailable_errors: tuple[type[Exception], ...]

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement (SQLite dialect, `?` placeholders)."""

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        """The rows of one statement as dicts, column name to value."""
        cursor = self.execute(sql, params)
        names = [c[0] for c in getattr(cursor, "description", None) or ()]
        for row in cursor.fetchall():
            yield dict(zip(names, row, strict=True))

    @abstractmethod
    def table_names(self) -> list[str]:
        """The tables in the database, by name."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open (on this thread's connection)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One durable write transaction: every statement in it lands, or none does."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection(s)."""

    def migration_lock(self) -> AbstractContextManager[None]:
        """Held while migrations run, so two servers starting together migrate once."""
        return nullcontext()

    def try_lead(self, key: int) -> bool:
        """Whether this server holds the lock `key` now, taking it when it is free.

        For work only one server may do at a time (publishing the MQTT queue in order). One
        SQLite file has one server: it always leads.
        """
        return True

    def savepoint(self, name: str) -> AbstractContextManager[None]:
        """A savepoint inside the open transaction: on an exception only its work is undone."""
        return _savepoint(self, name)


@contextmanager
def _savepoint(db: Database, name: str) -> Iterator[None]:
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute(f"ROLLBACK TO {name}")
            db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


class SqliteDatabase(Database):
    """One SQLite connection in autocommit mode; writers use `BEGIN IMMEDIATE ... COMMIT`."""

    dialect: Dialect = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)
    errors = (sqlite3.Error,)
    unavailable_errors = (sqlite3.Error,)  # disk full, I/O error, locked: all retryable

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def table_names(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        return [str(r[0]) for r in rows]

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def transaction(self) -> AbstractContextManager[None]:
        return _sqlite_transaction(self.conn)

    def close(self) -> None:
        self.conn.close()


@contextmanager
def _sqlite_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # Also when COMMIT itself failed (disk full): never leave a transaction open.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
