"""Real programs as subprocesses: free ports, readiness polling, log capture, cleanup."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:
            last_exc = exc
        else:
            if value:
                return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: {last_exc!r}")


class Proc:
    """One running program; its stdout+stderr go to `log_path` so a failing test can show it."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.log_path = log_path
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._log = log_path.open("ab")
        self.popen = subprocess.Popen(
            self.args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a power cut would: no cleanup runs."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not go."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        self._log.close()
        return int(self.popen.returncode)


class Runs:
    """A holder of one program run at a time (`proc`, None when not running)."""

    proc: Proc | None

    def kill(self) -> None:
        """SIGKILL, as a power cut would: nothing is cleaned up, no lock let go politely."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.stop()
            self.proc = None

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it does not go)."""
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


def python_module(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def wait_http_ok(url: str, *, timeout: float = 20.0, proc: Proc | None = None) -> None:
    """Wait for `url` to answer 2xx; if `proc` dies first, fail with its log."""

    def check() -> bool:
        if proc is not None and not proc.alive():
            raise AssertionError(f"{proc.args} exited early:\n{proc.log()}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url, timeout=1.0).is_success
        return False

    try:
        wait_until(check, timeout=timeout, what=url)
    except AssertionError:
        if proc is not None:
            raise AssertionError(f"{url} never became ready; log:\n{proc.log()}") from None
        raise


@contextlib.contextmanager
def running(proc: Proc) -> Iterator[Proc]:
    """Stop the program when the block ends, whatever happens."""
    try:
        yield proc
    finally:
        proc.stop()


def start_bridge(config: Path, workdir: Path, url: str, env: dict[str, str] | None = None) -> Proc:
    """`python -m bridge run --config config` in `workdir`, ready once `url`/healthz answers.

    `env` is laid over the caller's environment (pass CLEAN_ENV to blank inherited settings).
    """
    proc = Proc(
        python_module("bridge", "run", "--config", str(config)),
        log_path=workdir / "bridge.log",
        env=env,
        cwd=workdir,
    )
    try:
        wait_http_ok(url + "/healthz", proc=proc)
    except BaseException:
        proc.stop()
        raise
    return proc
