"""Which database the server runs on: SQLite in the data dir, or the `[database] url`'s PostgreSQL.

`alert-server run`, `migrate` and the offline commands open it here; both come back migrated.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.config import Config, DatabaseSection
from server.db.connection import open_database
from server.db.engine import Database
from server.db.migrate import Migration, migrate
from server.postgres.database import PostgresDatabase
from server.postgres.url import DatabaseUrl, parse_database_url


def database_url(config: Config) -> DatabaseUrl | None:
    """The PostgreSQL URL configured, or None for SQLite."""
    return parse_database_url(config.section("database", DatabaseSection).url)


def open_configured(config: Config, migrations: Sequence[Migration]) -> Database:
    """Open the configured database with the schema current (migrated once, under a lock)."""
    url = database_url(config)
    if url is None:
        return open_database(config.data_dir, migrations)
    db = PostgresDatabase(url, max_size=config.section("database", DatabaseSection).pool_size)
    try:
        migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    return db
