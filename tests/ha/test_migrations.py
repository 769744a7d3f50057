"""The schema on PostgreSQL: `alert-server migrate`, and servers starting together migrate once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from server.app.database import open_configured
from server.app.schema import all_migrations
from server.config import load_config
from tests.ha.conftest import MakeCluster
from tests.support.cluster import CLEAN_ENV
from tests.support.postgres import PASSWORD, Postgres

ROOT = Path(__file__).resolve().parents[2]


def applied(postgres: Postgres) -> list[tuple[int, int]]:
    """(migration number, rows) for every step recorded in the database."""
    with psycopg.connect(postgres.url) as conn:
        rows = conn.execute(
            "SELECT number, COUNT(*) FROM schema_migrations GROUP BY number ORDER BY number"
        ).fetchall()
    return [(int(n), int(c)) for n, c in rows]


def migrate(postgres: Postgres, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "migrate", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, **CLEAN_ENV, "ALERT_SERVER_DATABASE_URL": postgres.url},
    )


def test_migrate_applies_the_schema_once_then_has_nothing_left_to_do(
    make_cluster: MakeCluster, postgres: Postgres, tmp_path: Path
) -> None:
    first = migrate(postgres, tmp_path)
    assert first.returncode == 0, first.stderr
    steps = applied(postgres)
    assert steps, first.stdout
    said = [line.split()[1] for line in first.stdout.splitlines() if line.startswith("applied")]
    assert said == [str(n) for n, _ in steps]
    assert PASSWORD not in first.stdout + first.stderr
    again = migrate(postgres, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "applied" not in again.stdout
    assert "; 0 now)" in again.stdout
    assert applied(postgres) == steps
    # A server on the migrated database starts and works.
    node = make_cluster(count=1).start().a
    assert node.press(node.integration("lobby"), "lobby", "On").status_code == 202


def test_three_servers_starting_together_on_an_empty_database_migrate_it_once(
    make_cluster: MakeCluster, postgres: Postgres
) -> None:
    cluster = make_cluster(count=3).start()  # launched at the same moment, all must come up
    steps = applied(postgres)
    assert steps
    assert all(rows == 1 for _, rows in steps), steps
    for node in cluster.nodes:
        assert "Traceback" not in node.log(), node.log()
    path = cluster.nodes[2].integration("lobby")
    assert [n.press(path, "lobby", "On").status_code for n in cluster.nodes] == [202] * 3


def test_two_servers_starting_together_on_an_older_schema_add_the_missing_steps_once(
    make_cluster: MakeCluster, postgres: Postgres, tmp_path: Path
) -> None:
    steps = all_migrations()
    older = [s for s in steps if s.number < steps[-1].number]
    config = load_config(
        env={"ALERT_SERVER_DATABASE_URL": postgres.url, "ALERT_SERVER_DATA_DIR": str(tmp_path)}
    )
    open_configured(config, older).close()
    assert [n for n, _ in applied(postgres)] == [s.number for s in older]

    cluster = make_cluster().start()  # both launched at the same moment
    assert applied(postgres) == [(s.number, 1) for s in steps]
    path = cluster.a.integration("lobby")
    assert [n.press(path, "lobby", "On").status_code for n in cluster.nodes] == [202, 202]
