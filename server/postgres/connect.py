"""The first connection at start: a clear error naming the host and the reason, no password."""

from __future__ import annotations

import psycopg

from server.errors import AlertServerError
from server.postgres.url import DatabaseUrl

CONNECT_TIMEOUT_S = 5


class DatabaseUnavailableError(AlertServerError):
    """PostgreSQL cannot be reached, or refuses us (wrong password, no such database)."""


def reason_of(url: DatabaseUrl, exc: Exception) -> str:
    """The driver's reason in one line, with the password taken out."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # libpq says `connection failed: connection to server at "h" (ip), port p failed: REASON`
    text = " ".join(lines) or type(exc).__name__
    return url.scrub(text)


def check_database(url: DatabaseUrl, *, timeout_s: int = CONNECT_TIMEOUT_S) -> str:
    """Connect once and return the server's version; DatabaseUnavailableError otherwise."""
    try:
        with psycopg.connect(url.text, connect_timeout=timeout_s, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(
            f"cannot use the PostgreSQL database at {url.where}"
            f" (user {url.user or '(default)'}): {reason_of(url, exc)}"
        ) from exc
    return str(row[0]) if row else "?"
