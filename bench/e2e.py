"""`e2e`: a press at the simulated flicd until its message is committed on the server."""

from __future__ import annotations

import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench.programs import Program, add_integration, free_port, start_bridge, start_server
from tests.support.flicd_sim import SimThread

BUTTONS = [f"80:e4:da:71:00:{i:02x}" for i in range(10)]


def bridge_toml(state_dir: Path, port: int, flicd_port: int, target: str) -> str:
    lines = [
        "[bridge]",
        'name = "bench-bridge"',
        f'state_dir = "{state_dir}"',
        f'listen = "127.0.0.1:{port}"',
        'token = "bench-bridge-token"',
        "[flicd]",
        f"port = {flicd_port}",
        "[hub]",
        "enabled = false",
        "[[forward]]",
        f'url = "{target}"',
    ]
    for i, address in enumerate(BUTTONS):
        lines += ["[[button]]", f'address = "{address}"', f'name = "bench-{i}"']
    return "\n".join(lines) + "\n"


class CommitWatch:
    """Counts committed inbound messages, read from the server's database (WAL: no blocking)."""

    def __init__(self, db_path: Path) -> None:
        self._db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)

    def count(self) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM inbound_messages").fetchone()
        return int(n)

    def wait_beyond(self, seen: int, timeout_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            n = self.count()
            if n > seen:
                return n
            time.sleep(0.0002)
        raise RuntimeError(f"no commit after {timeout_s} s (still {seen} messages)")

    def close(self) -> None:
        self._db.close()


def _wait_channels(sim: SimThread, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(sim.has_channel(a) for a in BUTTONS):
        if time.monotonic() > deadline:
            raise RuntimeError("the bridge never opened a channel for every button")
        time.sleep(0.05)


def bench_e2e(
    workdir: Path, repo: Path, *, presses: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """The `e2e` line, and the bridge's RSS at idle and after the presses."""
    data_dir = workdir / "e2e-server"
    path = add_integration(data_dir, "bench-e2e")
    sim = SimThread(verified=BUTTONS)
    server: Program | None = None
    bridge: Program | None = None
    try:
        flicd_port = sim.start()
        server = start_server(data_dir, repo)
        port = free_port()
        toml = bridge_toml(workdir / "bridge-state", port, flicd_port, server.url + path)
        bridge = start_bridge(workdir / "bridge", toml, port, repo)
        _wait_channels(sim)
        rss = {"bridge_idle_mb": bridge.rss_mb()}
        watch = CommitWatch(data_dir / "alert-server.db")
        seen = watch.count()
        latencies: list[float] = []
        for i in range(presses):
            address = BUTTONS[i % len(BUTTONS)]
            kind = "single" if (i // len(BUTTONS)) % 2 == 0 else "double"  # open, then close
            started = time.perf_counter()
            sim.press(address, kind)
            seen = watch.wait_beyond(seen)
            latencies.append((time.perf_counter() - started) * 1000)
        watch.close()
        rss["bridge_after_presses_mb"] = bridge.rss_mb()
    finally:
        for program in (bridge, server):
            if program is not None:
                program.stop()
        sim.close()
    cuts = statistics.quantiles(latencies, n=100)
    line = {
        "name": "e2e",
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(max(latencies), 2),
        "presses": presses,
        "path": "simulated flicd (TCP) -> flic-bridge (outbox, FULL) -> alert-server (FULL commit)",
    }
    return line, rss
