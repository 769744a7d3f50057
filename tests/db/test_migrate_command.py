"""`alert-server migrate`: applies the schema and exits, says which steps it applied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from server.app.schema import all_migrations as default_migrations
from server.db.connection import open_database
from tests.e2e.programs import CLEAN_ENV

ROOT = Path(__file__).resolve().parents[2]


def migrate(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "migrate", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **CLEAN_ENV, "PYTHONPATH": str(ROOT)},
    )


def test_migrate_creates_the_schema_then_has_nothing_left_to_do(tmp_path: Path) -> None:
    first = migrate(tmp_path / "data")
    assert first.returncode == 0, first.stderr
    steps = default_migrations()
    assert first.stdout.splitlines()[: len(steps)] == [
        f"applied {s.number} {s.name}" for s in steps
    ]
    assert f"({len(steps)} steps, newest {steps[-1].number}" in first.stdout
    again = migrate(tmp_path / "data")
    assert again.returncode == 0, again.stderr
    assert "applied" not in again.stdout
    assert "; 0 now)" in again.stdout


def test_an_older_database_gets_only_the_missing_steps(tmp_path: Path) -> None:
    older = [s for s in default_migrations() if s.number < 600]
    open_database(tmp_path / "data", older).close()
    out = migrate(tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert [line for line in out.stdout.splitlines() if line.startswith("applied")] == [
        "applied 600 bridges reporting in"
    ]
