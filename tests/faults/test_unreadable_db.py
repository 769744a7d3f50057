"""A database file the program may not read: it says which file and why, and exits once with
a failure code (systemd shows the line; no traceback, no busy restart loop inside).

A *damaged* file is a different case: it is quarantined and the program starts fresh
(tests/ops/test_server_process.py and tests/ops/test_bridge_process.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.support.procs import free_port

pytestmark = pytest.mark.faults

NOBODY = 65534
REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], *, cwd: Path, as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*(prefix if as_nobody else []), sys.executable, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        cwd=cwd,
        env={**os.environ, **CLEAN_ENV, "PYTHONPATH": str(REPO)},
    )


def nobody_can_run_the_server(cwd: Path) -> bool:
    """A clone in a private folder (`mktemp -d` is 0700) is out of `nobody`'s reach."""
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*as_nobody, sys.executable, "-c", "import server.cli"],
        capture_output=True,
        check=False,
        timeout=30,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return probe.returncode == 0


def server_args(data_dir: Path) -> list[str]:
    return ["-m", "server", "run", "--data-dir", str(data_dir), "--port", str(free_port())]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the server as another user")
def test_server_whose_database_it_may_not_read_exits_with_a_clear_error(tmp_path: Path) -> None:
    # pytest's own temp root is private to root: use a directory `nobody` can walk into.
    with tempfile.TemporaryDirectory(prefix="faults-") as outer:
        base = Path(outer)
        base.chmod(0o755)
        if not nobody_can_run_the_server(base):
            pytest.skip(
                f"user nobody cannot read this checkout ({REPO}): clone it somewhere public"
            )
        server = AlertServer(base / "server", tmp_path / "server.log")
        server.add_flic_integration()  # a real database, owned by root
        server.data_dir.chmod(0o755)
        (server.data_dir / "alert-server.db").chmod(0o000)

        done = run(server_args(server.data_dir), cwd=base, as_nobody=True)

        assert done.returncode == 1
        database = server.data_dir / "alert-server.db"
        assert f"cannot check {database}: unable to open database file" in done.stderr
        assert database.exists()  # a file it may not read is reported, never quarantined
        assert "Traceback" not in done.stderr + done.stdout
