"""The PostgreSQL fixture itself: a real server, unprivileged, password-protected, restartable."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import Postgres


def test_the_cluster_takes_connections_and_keeps_data_across_a_restart(postgres: Postgres) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    postgres.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.url, connect_timeout=2)
    postgres.start()
    with psycopg.connect(postgres.url) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]


def test_it_runs_unprivileged_and_wants_the_password(postgres: Postgres) -> None:
    if os.geteuid() == 0:
        assert postgres.user in ("postgres", "nobody")
        assert postgres.proc is not None
        status = Path(f"/proc/{postgres_pid(postgres)}/status").read_text()
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1] != "0"
    wrong = postgres.url.replace("pg-test-secret", "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def postgres_pid(postgres: Postgres) -> int:
    """The postmaster's pid, from its own lock file."""
    return int((postgres.data / "postmaster.pid").read_text().splitlines()[0])
