"""A database file that cannot be read: each program says which file and why, exits once
with a failure code (systemd shows the line; no traceback, no busy restart loop inside)."""

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


def server_args(data_dir: Path) -> list[str]:
    return ["-m", "server", "run", "--data-dir", str(data_dir), "--port", str(free_port())]


def test_server_with_a_corrupt_database_exits_with_a_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    (data_dir / "alert-server.db").write_bytes(b"not a database, just garbage\n" * 300)

    done = run(server_args(data_dir), cwd=tmp_path)

    assert done.returncode == 1
    assert f"cannot prepare the database in {data_dir}: file is not a database" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the server as another user")
def test_server_whose_database_it_may_not_read_exits_with_a_clear_error(tmp_path: Path) -> None:
    # pytest's own temp root is private to root: use a directory `nobody` can walk into.
    with tempfile.TemporaryDirectory(prefix="faults-") as outer:
        base = Path(outer)
        base.chmod(0o755)
        server = AlertServer(base / "server", tmp_path / "server.log")
        server.add_flic_integration()  # a real database, owned by root
        server.data_dir.chmod(0o755)
        (server.data_dir / "alert-server.db").chmod(0o000)

        done = run(server_args(server.data_dir), cwd=base, as_nobody=True)

        assert done.returncode == 1
        assert f"cannot open the database in {server.data_dir}" in done.stderr
        assert "unable to open database file" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout


def test_bridge_with_a_corrupt_outbox_exits_with_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "outbox.sqlite3").write_bytes(b"\x00garbage" * 1000)
    config = tmp_path / "bridge.toml"
    config.write_text(
        "[bridge]\n"
        f'state_dir = "{state}"\n'
        f'listen = "127.0.0.1:{free_port()}"\n'
        'token = "faults-bridge-token"\n'
        "[flicd]\nenabled = false\n"
    )

    done = run(["-m", "bridge", "run", "--config", str(config)], cwd=tmp_path)

    assert done.returncode == 1
    message = f"cannot open outbox {state / 'outbox.sqlite3'}: file is not a database"
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
