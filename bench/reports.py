"""`reports`: a year of calls from 200 buttons (about 200,000 alerts), then the report queries.

The generator writes straight into a migrated database: calls spread over the day with more by
day and slower answers at night, a monthly drill per button, a few calls still open.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import sqlite_utils

from server.alerts.store import Store
from server.app.schema import all_migrations
from server.db.connection import open_database
from server.reports.queries import GroupBy, drills, response_times

BUTTONS = 200
DAYS = 365
ALERTS = 200_000
TARGET_S = 180.0
ZONE = "Europe/Oslo"
END = datetime(2026, 12, 1, tzinfo=UTC)


def generate(db: sqlite_utils.Database, *, alerts: int = ALERTS, seed: int = 20) -> int:
    """Insert the year of alerts; return how many."""
    rng = random.Random(seed)
    store = Store(db)
    wards = [
        store.create_integration(name=f"ward-{w}", kind="flic", mapping={}, now=END).id
        for w in range(10)
    ]
    start = END - timedelta(days=DAYS)
    rows: list[tuple[Any, ...]] = []
    hours = [h for h in range(24) for _ in range(1 if h < 6 or h >= 22 else 4)]  # busier by day
    priorities = ("urgent", "high", "normal", "normal", "normal", "low")
    for n in range(alerts):
        button = n % BUTTONS
        day = rng.randrange(DAYS)
        hour = rng.choice(hours)
        opened = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        night = hour < 6 or hour >= 22
        drill = rng.random() < 12 * BUTTONS / alerts
        ack_s = rng.lognormvariate(4.5 + (0.6 if night else 0.0), 0.8)
        closed = rng.random() < 0.999 or opened < END - timedelta(days=2)
        acked_at = opened + timedelta(seconds=round(ack_s, 3))
        closed_at = acked_at + timedelta(seconds=rng.randrange(30, 900)) if closed else None
        rows.append(
            (
                wards[button % len(wards)],
                f"room-{button:03d}",
                "" if closed else f"live-{n}",
                "closed" if closed else "acknowledged",
                "call",
                opened.isoformat(),  # aware UTC: the same text the server stores
                acked_at.isoformat(),
                None if closed_at is None else closed_at.isoformat(),
                (closed_at or acked_at).isoformat(),
                rng.choice(priorities),
                int(drill),
            )
        )
    db.execute("BEGIN")
    db.conn.executemany(
        """INSERT INTO alerts (integration_id, source_name, source_id, status, title, opened_at,
           acknowledged_at, closed_at, updated_at, priority, drill)
           VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        rows,
    )
    db.execute("COMMIT")
    return len(rows)


def bench_reports(work: Path, *, alerts: int = ALERTS) -> dict[str, Any]:
    """Time each grouping over the whole year and the drill report (measured, not asserted)."""
    db = open_database(work, all_migrations())
    try:
        started = time.perf_counter()
        alerts = generate(db, alerts=alerts)
        generate_s = time.perf_counter() - started
        zone = ZoneInfo(ZONE)
        timings: dict[str, float] = {}
        cpu: dict[str, float] = {}  # this process's CPU time: steadier than wall on a busy VM
        groups: dict[str, int] = {}
        for group_by in get_args(GroupBy):
            started, cpu_started = time.perf_counter(), time.process_time()
            rows = response_times(
                db,
                from_at=END - timedelta(days=DAYS),
                to_at=END,
                group_by=group_by,
                zone=zone,
                target_s=TARGET_S,
                now=END,
            )
            timings[group_by] = round((time.perf_counter() - started) * 1000, 1)
            cpu[group_by] = round((time.process_time() - cpu_started) * 1000, 1)
            groups[group_by] = len(rows)
        started = time.perf_counter()
        drill_rows = drills(db)
        drills_ms = round((time.perf_counter() - started) * 1000, 1)
    finally:
        db.conn.close()
    return {
        "name": "reports",
        "alerts": alerts,
        "buttons": BUTTONS,
        "days": DAYS,
        "generate_s": round(generate_s, 2),
        "year_report_ms": timings,
        "groups": groups,
        "slowest_report_ms": max(timings.values()),
        "year_report_cpu_ms": cpu,
        "load_average": round(os.getloadavg()[0], 2),
        "drills_ms": drills_ms,
        "drill_rows": len(drill_rows),
        "target_ms": 1000,
    }


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(bench_reports(Path(tmp))))
