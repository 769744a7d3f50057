"""`ingest`: Flic-guide webhooks at 64 connections against `alert-server`, and the bare baseline."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from bench.load import run_load, run_rate_load
from bench.programs import CLEAN_ENV, Program, add_integration, free_port, spawn, start_server

CONNECTIONS = 64
RATE_PER_S = 2000  # the target rate: latency is measured again while sending just this much


def logged_rows(data_dir: Path) -> int:
    """Messages in the server's inbound log (read straight from its database)."""
    with sqlite3.connect(f"file:{data_dir / 'alert-server.db'}?mode=ro", uri=True) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM inbound_messages").fetchone()
    return int(count)


def start_baseline(workdir: Path, repo: Path) -> Program:
    port = free_port()
    return spawn(
        [sys.executable, "-m", "bench.baseline_app", str(port)],
        url=f"http://127.0.0.1:{port}",
        log=workdir / "baseline.log",
        env=CLEAN_ENV,
        cwd=repo,
    )


def bench_ingest(
    workdir: Path, repo: Path, *, duration_s: float
) -> tuple[dict[str, Any], dict[str, float]]:
    """The `ingest` line, and the server's RSS at idle and after the run."""
    data_dir = workdir / "server"
    path = add_integration(data_dir, "bench")
    server = start_server(data_dir, repo)
    try:
        rss = {"server_idle_mb": server.rss_mb()}
        run_load(server.url + path, connections=CONNECTIONS, duration_s=1)  # warm up
        warm_rows = logged_rows(data_dir)
        result = run_load(server.url + path, connections=CONNECTIONS, duration_s=duration_s)
        stored = logged_rows(data_dir) - warm_rows  # every 202 was committed before its answer
        at_rate = run_rate_load(
            server.url + path, connections=CONNECTIONS, rate_per_s=RATE_PER_S, duration_s=duration_s
        )
        rss["server_after_ingest_mb"] = server.rss_mb()
    finally:
        server.stop()
    baseline = start_baseline(workdir, repo)
    try:
        run_load(baseline.url + "/inbound/x", connections=CONNECTIONS, duration_s=1)
        base = run_load(baseline.url + "/inbound/x", connections=CONNECTIONS, duration_s=duration_s)
        base_at_rate = run_rate_load(
            baseline.url + "/inbound/x",
            connections=CONNECTIONS,
            rate_per_s=RATE_PER_S,
            duration_s=duration_s,
        )
    finally:
        baseline.stop()
    line = {
        "name": "ingest",
        "events_per_s": result["events_per_s"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "baseline_events_per_s": base["events_per_s"],
        "baseline_p99_ms": base["p99_ms"],
        "ratio": round(result["events_per_s"] / base["events_per_s"], 2)
        if base["events_per_s"]
        else None,
        "at_rate": {
            "offered_per_s": RATE_PER_S,
            "events_per_s": at_rate["events_per_s"],
            "p50_ms": at_rate["p50_ms"],
            "p99_ms": at_rate["p99_ms"],
            "non_2xx": at_rate["non_2xx"],
            "baseline_p50_ms": base_at_rate["p50_ms"],
            "baseline_p99_ms": base_at_rate["p99_ms"],
            "generator": at_rate["generator"],
        },
        "connections": CONNECTIONS,
        "duration_s": duration_s,
        "requests": result["requests"],
        "answered_2xx": result["requests"] - result["non_2xx"],
        "non_2xx": result["non_2xx"],
        "socket_errors": result["socket_errors"],
        "stored_in_inbound_log": stored,
        "generator": result["generator"],
        "durability": "SQLite WAL, synchronous=FULL",
    }
    return line, rss
