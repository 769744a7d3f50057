"""A real PostgreSQL for tests: Debian's binaries, `initdb` + `postgres` on a free port.

Run as root (make test, CI), the server runs as the unprivileged `postgres` user (or `nobody`)
in a temp dir it owns, since PostgreSQL refuses to run as root. `stop()`/`start()` keep the
data and the port, so a test can take the database away and bring it back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from tests.support.procs import Proc, free_port, wait_until

USER = "flic"
PASSWORD = "pg-test-secret"
DATABASE = "flic_edge"


def bin_dir() -> Path | None:
    """The newest Debian PostgreSQL `bin` with initdb and postgres, else the one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in found:
        if all(os.access(Path(candidate) / b, os.X_OK) for b in ("initdb", "postgres")):
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _run_as() -> str | None:
    """Who runs the server: None as an ordinary user, else an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")


class Postgres:
    """One PostgreSQL cluster in a temp dir; `url` has a password, like a real deployment."""

    def __init__(self, *, fsync: bool = False) -> None:
        """`fsync=True` for measurements: every commit on disk, as in production."""
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError(
                "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql,"
                " as root)"
            )
        self.bin = binaries
        self.fsync = fsync
        self.user = _run_as()
        # Not under pytest's tmp_path: that is root's 0700 tree, which the server user can't enter.
        self.root = Path(tempfile.mkdtemp(prefix="flic-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc: Proc | None = None
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._initdb()

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _as_user(self, *argv: str) -> list[str]:
        return list(argv) if self.user is None else ["runuser", "-u", self.user, "--", *argv]

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        out = subprocess.run(
            self._as_user(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            ),
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
        )
        pwfile.unlink()
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{out.stdout}\n{out.stderr}")

    def start(self) -> Postgres:
        """Start the server and wait until it takes connections (creating the database once)."""
        self.proc = Proc(
            self._as_user(
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                # A test cluster: an OS crash is not what the tests simulate, speed is welcome.
                "-c",
                f"fsync={'on' if self.fsync else 'off'}",
                "-c",
                "max_connections=200",
            ),
            log_path=self.root / "postgres.log",
            cwd=self.root,
        )
        wait_until(self._ready, timeout=60, what=f"PostgreSQL on port {self.port}")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if not self.proc.alive():
            raise AssertionError(f"postgres exited early:\n{self.log()}")
        try:
            with psycopg.connect(self.admin_url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT: running transactions rolled back, connections cut)."""
        if self.proc is None:
            return
        # The postmaster itself, not `runuser` around it: runuser turns a signal into SIGTERM
        # (a "smart" shutdown that waits for every client) and SIGKILLs it 2 s later, which
        # leaves postmaster.pid and orphaned backends behind and the next start refused.
        postmaster = self._postmaster_pid()
        if self.proc.alive() and postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.popen.wait(30)
        self.proc.stop(timeout=30)
        self.proc = None

    def _postmaster_pid(self) -> int | None:
        """The running postmaster's pid, from its lock file (None when there is none)."""
        try:
            first = (self.data / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.strip().isdigit() else None

    def reset(self) -> None:
        """An empty database again, for the next test (the cluster keeps running)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_postgres(*, fsync: bool = False) -> Iterator[Postgres]:
    """A started cluster, stopped and removed when the block ends."""
    server = Postgres(fsync=fsync)
    try:
        yield server.start()
    finally:
        server.remove()
