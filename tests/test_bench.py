"""`make bench` runs and reports every line (how fast is its output, never an assertion here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_bench_prints_every_line_and_loses_no_accepted_message() -> None:
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_DURATION_S": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    by_name = {line["name"]: line for line in lines}

    assert [line["name"] for line in lines] == [
        "machine",
        "ingest",
        "ingest_pg",
        "e2e",
        "outbox",
        "press_to_page",
        "reports",
        "rss_mb",
    ]
    paged = by_name["press_to_page"]
    assert paged["presses"] == 20
    assert paged["page_p50_ms"] <= paged["page_p99_ms"]
    assert paged["board_p50_ms"] <= paged["page_p50_ms"]  # on the board before the email
    ingest = by_name["ingest"]
    assert ingest["answered_2xx"] > 0
    assert ingest["baseline_events_per_s"] > 0
    assert (ingest["non_2xx"], ingest["socket_errors"], ingest["at_rate"]["non_2xx"]) == (0, 0, 0)
    assert ingest["stored_in_inbound_log"] >= ingest["answered_2xx"]  # every 202 is in the log
    assert "skipped" not in by_name["ingest_pg"], by_name["ingest_pg"]
    for run in ("one_server", "two_servers"):  # PostgreSQL: every 202 is in the shared log
        pg = by_name["ingest_pg"][run]
        assert pg["answered_2xx"] > 0, pg
        assert (pg["non_2xx"], pg["socket_errors"]) == (0, 0), pg
        assert pg["stored_in_inbound_log"] >= pg["answered_2xx"], pg
    assert by_name["ingest_pg"]["two_servers"]["servers"] == 2
    assert by_name["e2e"]["presses"] >= 500
    assert by_name["e2e"]["p50_ms"] <= by_name["e2e"]["p99_ms"]
    assert by_name["outbox"]["left_pending"] == 0
    assert by_name["reports"]["alerts"] == 50_000  # BENCH_QUICK: a quarter of the full 200,000
    assert by_name["reports"]["groups"]["hour"] == 24
    assert set(by_name["rss_mb"]) >= {
        "server_idle_mb",
        "server_after_ingest_mb",
        "bridge_idle_mb",
        "bridge_after_presses_mb",
    }
