"""HTTP load at N connections: wrk with a Lua script, or our own multi-process raw-socket client.

Both send the Flic guide's key-line body (On/Off over 1,000 buttons) and report one dict:
requests, events_per_s (2xx per second), p50_ms, p99_ms, non_2xx, socket_errors, generator.

`run_load` keeps every connection busy (closed loop: the most the server can take, and a
latency that is only how long the queue is). `run_rate_load` sends at a fixed rate instead
(open loop, as wrk2 does): each request has a planned send time, and its latency counts from
that time, so a stalled server is charged for the requests it held back.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LUA = Path(__file__).with_name("flic_guide.lua")
BUTTONS = 1000


def ensure_wrk() -> str | None:
    """The wrk binary; installed from Debian when missing and we are root (None: not possible)."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    for cmd in (install, ["apt-get", "update", "-qq"], install):
        subprocess.run(cmd, capture_output=True, check=False, env=env, timeout=600)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def run_load(url: str, *, connections: int, duration_s: float, threads: int = 2) -> dict[str, Any]:
    """Load `url` (base + inbound path) and summarise; wrk when there is one."""
    wrk = None if os.environ.get("BENCH_NO_WRK") else ensure_wrk()
    if wrk is not None:
        return _run_wrk(wrk, url, connections, duration_s, threads)
    return run_socket_load(url, connections=connections, duration_s=duration_s, procs=threads)


def _run_wrk(
    wrk: str, url: str, connections: int, duration_s: float, threads: int
) -> dict[str, Any]:
    parts = urlsplit(url)
    seconds = max(1, round(duration_s))
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(LUA), f"{parts.scheme}://{parts.netloc}", "--", parts.path]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    ok = raw["requests"] - raw["non_2xx"]
    return {
        "generator": "wrk",
        "requests": raw["requests"],
        "events_per_s": round(ok / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
    }


def guide_body(rng: random.Random) -> bytes:
    state = rng.choice(("On", "Off"))
    n = rng.randrange(1, BUTTONS + 1)
    return f'"flic_nameId": "button-{n}", "flic_state": "{state}", "info": "bench press",'.encode()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, body: bytes
) -> int:
    """One POST on a keep-alive connection; its status."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer.write(head + body)
    status_line = await reader.readuntil(b"\r\n")
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _connection(
    host: str, port: int, path: str, until: float, period_s: float, out: list[Any]
) -> None:
    """Send until `until`: back to back (`period_s` 0), or one request every `period_s`."""
    rng = random.Random()
    reader, writer = await asyncio.open_connection(host, port)
    planned = time.perf_counter() + rng.uniform(0, period_s)  # spread the connections out
    try:
        while time.monotonic() < until:
            if period_s:
                await asyncio.sleep(max(0.0, planned - time.perf_counter()))
                started = planned  # open loop: a late send is the server's delay too
                planned += period_s
            else:
                started = time.perf_counter()
            status = await _exchange(reader, writer, host, path, guide_body(rng))
            out.append((status, time.perf_counter() - started))
    except (OSError, asyncio.IncompleteReadError):
        out.append((0, 0.0))
    finally:
        writer.close()


def _worker(url: str, connections: int, duration_s: float, period_s: float, queue: Any) -> None:
    parts = urlsplit(url)
    results: list[Any] = []

    async def main() -> None:
        started = time.monotonic()
        until = started + duration_s
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        jobs = [
            _connection(host, port, parts.path, until, period_s, results)
            for _ in range(connections)
        ]
        await asyncio.gather(*jobs)
        window.append(time.monotonic() - started)

    window: list[float] = []
    asyncio.run(main())
    queue.put((results, window[0]))


def run_socket_load(
    url: str, *, connections: int, duration_s: float, procs: int, rate_per_s: float = 0
) -> dict[str, Any]:
    """Our generator: `procs` processes of keep-alive raw-socket connections.

    `rate_per_s` 0 keeps every connection busy; otherwise all of them together send that many
    requests per second, each on its own schedule (see the module's text).
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    period_s = connections / rate_per_s if rate_per_s else 0.0
    per = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    workers = [ctx.Process(target=_worker, args=(url, n, duration_s, period_s, queue)) for n in per]
    for w in workers:
        w.start()
    gathered = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    results = [r for part, _ in gathered for r in part]
    elapsed = max(window for _, window in gathered)  # the load window, not process start-up
    ok = sorted(t for s, t in results if 200 <= s < 300)
    pick = lambda q: round(ok[min(len(ok) - 1, int(q * len(ok)))] * 1000, 2) if ok else None  # noqa: E731
    return {
        "generator": "python-raw-sockets" + (f" at {rate_per_s:g}/s" if rate_per_s else ""),
        "requests": len(results),
        "events_per_s": round(len(ok) / elapsed, 1),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "non_2xx": sum(1 for s, _ in results if s and not 200 <= s < 300),
        "socket_errors": sum(1 for s, _ in results if s == 0),
    }


def run_rate_load(
    url: str, *, connections: int, rate_per_s: float, duration_s: float, procs: int = 2
) -> dict[str, Any]:
    """`connections` keep-alive connections sending `rate_per_s` requests per second in all."""
    return run_socket_load(
        url, connections=connections, duration_s=duration_s, procs=procs, rate_per_s=rate_per_s
    )
