"""`ingest_pg`: the `ingest` load against `alert-server` on PostgreSQL, one server and two.

PostgreSQL runs with `fsync=on` and `synchronous_commit=on` (its defaults): each 202 is sent
after its commit is on disk, as with SQLite's synchronous=FULL. With two servers the 64
connections are split between them (a load balancer's view); both share one database.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.load import run_load
from bench.programs import Program, start_server
from tests.support.postgres import Postgres, bin_dir, running_postgres

CONNECTIONS = 64
TOKEN = "bench-admin-token-5e1f0a9c"


def stored_rows(postgres: Postgres) -> int:
    with psycopg.connect(postgres.url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM inbound_messages").fetchone()
    return int(row[0]) if row else 0


def add_integration(server: Program) -> str:
    answer = httpx.post(
        server.url + "/api/v1/integrations",
        json={"name": "bench", "kind": "flic"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["inbound_path"])


def loads(urls: list[str], duration_s: float) -> list[dict[str, Any]]:
    """The same closed-loop load on every URL at once, the connections split between them."""
    share = CONNECTIONS // len(urls)
    with ThreadPoolExecutor(len(urls)) as pool:
        runs = [
            pool.submit(run_load, url, connections=share, duration_s=duration_s, threads=1)
            for url in urls
        ]
        return [r.result() for r in runs]


def one_run(workdir: Path, repo: Path, postgres: Postgres, count: int, duration_s: float) -> Any:
    """`count` servers on a fresh database: the summed rate, the worst latency, rows stored."""
    postgres.reset()
    env = {"ALERT_SERVER_DATABASE_URL": postgres.url, "ALERT_SERVER_ADMIN_TOKEN": TOKEN}
    servers: list[Program] = []
    try:
        for n in range(count):
            servers.append(start_server(workdir / f"{count}-servers" / f"s{n}" / "data", repo, env))
        path = add_integration(servers[0])
        urls = [s.url + path for s in servers]
        loads(urls, 1)  # warm up
        before = stored_rows(postgres)
        results = loads(urls, duration_s)
        stored = stored_rows(postgres) - before  # every 202 was committed before its answer
    finally:
        for server in servers:
            server.stop()
    requests = sum(r["requests"] for r in results)
    non_2xx = sum(r["non_2xx"] for r in results)
    return {
        "servers": count,
        "events_per_s": round(sum(r["events_per_s"] for r in results), 1),
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "requests": requests,
        "answered_2xx": requests - non_2xx,
        "non_2xx": non_2xx,
        "socket_errors": sum(r["socket_errors"] for r in results),
        "stored_in_inbound_log": stored,
        "generator": results[0]["generator"],
    }


def bench_ingest_pg(workdir: Path, repo: Path, *, duration_s: float) -> dict[str, Any]:
    """The `ingest_pg` line (a `skipped` reason when PostgreSQL is not installed)."""
    line: dict[str, Any] = {"name": "ingest_pg", "connections": CONNECTIONS}
    if bin_dir() is None:
        return {**line, "skipped": "PostgreSQL is not installed (make deps installs it as root)"}
    with running_postgres(fsync=True) as postgres:
        with psycopg.connect(postgres.admin_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        one = one_run(workdir, repo, postgres, 1, duration_s)
        two = one_run(workdir, repo, postgres, 2, duration_s)
    return {
        **line,
        "one_server": one,
        "two_servers": two,
        "duration_s": duration_s,
        "postgresql": str(version[0]) if version else "?",
        "durability": "PostgreSQL fsync=on, synchronous_commit=on (same machine)",
    }
