"""The two real programs as subprocesses for the benchmarks: start, wait ready, measure, stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

# Our runs must not pick up a developer's settings; the rate limit is lifted for load tests.
CLEAN_ENV = {k: "" for k in os.environ if k.startswith(("ALERT_SERVER_", "FLIC_BRIDGE_"))}
SERVER_ENV = {
    **CLEAN_ENV,
    "ALERT_SERVER_SERVER_INBOUND_RATE_PER_S": "1000000",
    "ALERT_SERVER_SERVER_INBOUND_BURST": "1000000",
    "ALERT_SERVER_SERVER_LOG_LEVEL": "WARNING",
}


SERVER_CLI = (sys.executable, "-m", "server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).is_success:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} never became ready:\n{log.read_text(errors='replace')}")


@dataclass
class Program:
    """One running subprocess with its log file."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def spawn(args: list[str], *, url: str, log: Path, env: dict[str, str], cwd: Path) -> Program:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            cwd=cwd,
            start_new_session=True,
        )
    program = Program(proc, url, log)
    try:
        wait_ready(url + "/healthz", proc, log)
    except BaseException:
        program.stop()
        raise
    return program


def add_integration(data_dir: Path, name: str) -> str:
    """Create a Flic integration offline; returns its inbound path."""
    out = subprocess.run(
        [*SERVER_CLI, "integration", "add", "--name", name, "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **CLEAN_ENV},
    )
    return str(json.loads(out.stdout)["inbound_path"])


def start_server(data_dir: Path, repo: Path, env: dict[str, str] | None = None) -> Program:
    """`alert-server run` on a free port; `env` is laid over SERVER_ENV."""
    port = free_port()
    args = [sys.executable, "-m", "server", "run", "--data-dir", str(data_dir)]
    data_dir.mkdir(parents=True, exist_ok=True)
    return spawn(
        [*args, "--port", str(port)],
        url=f"http://127.0.0.1:{port}",
        log=data_dir.parent / "server.log",
        env={**SERVER_ENV, **(env or {})},
        cwd=repo,
    )


def start_bridge(workdir: Path, toml: str, port: int, repo: Path) -> Program:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "bridge.toml"
    config.write_text(toml)
    return spawn(
        [sys.executable, "-m", "bridge", "run", "--config", str(config)],
        url=f"http://127.0.0.1:{port}",
        log=workdir / "bridge.log",
        env={**CLEAN_ENV, "PYTHONPATH": str(repo)},
        cwd=workdir,
    )
