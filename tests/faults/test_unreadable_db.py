"""A database file the program may not read: it says which file and why, and exits once with
a failure code (systemd shows the line; no traceback, no busy restart loop inside).

A *damaged* file is a different case: it is quarantined and the program starts fresh
(tests/ops/test_server_process.py and tests/ops/test_bridge_process.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.programs import CLEAN_ENV, AlertServer
from tests.support.procs import free_port

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parents[2]


def without_file_override() -> list[str]:
    """Root reads any file: drop the two capabilities that let it, so mode 000 holds for it too.

    (Run as the file's owner but without them, the checkout stays readable wherever it is; a
    non-root user needs nothing: mode 000 stops them already.)
    """
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_server_whose_database_it_may_not_read_exits_with_a_clear_error(tmp_path: Path) -> None:
    server = AlertServer(tmp_path / "server", tmp_path / "server.log")
    server.add_flic_integration()  # a real database
    database = server.data_dir / "alert-server.db"
    database.chmod(0o000)

    done = subprocess.run(
        [
            *without_file_override(),
            sys.executable,
            *["-m", "server", "run", "--data-dir", str(server.data_dir)],
            *["--port", str(free_port())],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, **CLEAN_ENV, "PYTHONPATH": str(REPO)},
    )

    assert done.returncode == 1
    assert f"cannot check {database}: unable to open database file" in done.stderr
    assert database.exists()  # a file it may not read is reported, never quarantined
    assert "Traceback" not in done.stderr + done.stdout
