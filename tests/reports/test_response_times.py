"""`GET /api/v1/reports/response-times`: exact figures, CSV, time zones and refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reports.conftest import seed_alert
from tests.server.conftest import InProcess, in_process

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
API = "/api/v1/reports/response-times"


@pytest.fixture
async def ward(tmp_path: Path) -> AsyncIterator[InProcess]:
    """An app whose clock stands at NOW, with two rooms' calls of the last days."""
    async with in_process(tmp_path / "data", clock=lambda: NOW) as app:
        desk = (await app.add("ward-b"))["id"]
        start = NOW - timedelta(days=2)
        for i, ack in enumerate((10, 20, 30, 40, 50, 60, 70, 80, 90, 1000)):
            at = start + timedelta(hours=i)
            seed_alert(app, desk, "room-12", at, ack_after_s=ack, close_after_s=ack + 60)
        seed_alert(app, desk, "room-12", NOW - timedelta(minutes=20))  # still open
        seed_alert(app, desk, "room-3", start, close_after_s=100)  # the Off answered it
        seed_alert(app, desk, "room-3", start + timedelta(hours=1), ack_after_s=200)
        seed_alert(app, desk, "room-12", start, ack_after_s=5, close_after_s=6, drill=True)
        seed_alert(
            app, desk, "room-12", NOW - timedelta(days=9), ack_after_s=999, close_after_s=999
        )
        yield app


async def test_figures_match_the_ones_worked_out_by_hand(ward: InProcess) -> None:
    report = await ward.admin_get(API, group_by="source")

    rows = {r["key"]: r for r in report["items"]}
    # room-12: acks 10..90 and 1000 s (nearest rank: p50 = 5th = 50, p90 = 9th = 90), closes
    # 60 s later, one call open for 20 minutes; the drill and the 9-day-old call are left out.
    assert rows["room-12"] == {
        "key": "room-12",
        "alerts": 11,
        "acknowledged": 10,
        "p50_ack_s": 50.0,
        "p90_ack_s": 90.0,
        "max_ack_s": 1000.0,
        "p50_close_s": 110.0,
        "p90_close_s": 150.0,
        "within_target": round(9 / 11, 4),
        "over_15_min": 2,
    }
    assert rows["room-3"] == {
        "key": "room-3",
        "alerts": 2,
        "acknowledged": 2,
        "p50_ack_s": 100.0,
        "p90_ack_s": 200.0,
        "max_ack_s": 200.0,
        "p50_close_s": 100.0,
        "p90_close_s": 100.0,
        "within_target": 0.5,
        "over_15_min": 0,
    }
    assert list(rows) == ["room-12", "room-3"]
    assert report["target_s"] == 180.0


async def test_other_groupings_cover_the_same_calls(ward: InProcess) -> None:
    for group_by, keys in (("integration", ["ward-b"]), ("priority", ["normal"])):
        report = await ward.admin_get(API, group_by=group_by)
        assert [r["key"] for r in report["items"]] == keys
        assert [r["alerts"] for r in report["items"]] == [13]
    by_day = await ward.admin_get(API, group_by="day")
    assert [(r["key"], r["alerts"]) for r in by_day["items"]] == [
        ("2026-11-18", 12),
        ("2026-11-20", 1),
    ]


async def test_the_csv_has_the_same_rows(ward: InProcess) -> None:
    answer = await ward.client.get(
        API, params={"group_by": "source", "format": "csv"}, headers=ward.admin_headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text)))
    report = await ward.admin_get(API, group_by="source")
    assert [r["key"] for r in table] == ["room-12", "room-3"]
    for line, item in zip(table, report["items"], strict=True):
        assert line == {k: "" if v is None else str(v) for k, v in item.items()}


async def test_a_target_from_the_config_changes_within_target(tmp_path: Path) -> None:
    env = {"ALERT_SERVER_SERVER_RESPONSE_TARGET_S": "45"}
    async with in_process(tmp_path / "data", env, clock=lambda: NOW) as app:
        desk = (await app.add("ward-b"))["id"]
        for i, ack in enumerate((30, 45, 46, 300)):
            seed_alert(
                app,
                desk,
                "room-1",
                NOW - timedelta(hours=i + 1),
                ack_after_s=ack,
                close_after_s=ack,
            )
        report = await app.admin_get(API)
    assert report["target_s"] == 45.0
    assert report["items"][0]["within_target"] == 0.5


def _local_hours(report: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["key"], r["alerts"]) for r in report["items"]]


async def test_hours_and_days_follow_the_zone_across_both_dst_changes(tmp_path: Path) -> None:
    env = {"ALERT_SERVER_SERVER_TIMEZONE": "Europe/Oslo"}
    async with in_process(tmp_path / "data", env, clock=lambda: NOW) as app:
        desk = (await app.add("ward-b"))["id"]
        # Autumn, 25 Oct 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:30 happens twice.
        for utc in ("2026-10-24T21:59", "2026-10-24T22:30", "2026-10-25T00:30", "2026-10-25T01:30"):
            at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
            seed_alert(app, desk, "room-1", at, ack_after_s=60, close_after_s=60)
        # Spring, 29 Mar 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC (no 02 hour that day).
        for utc in ("2026-03-29T00:30", "2026-03-29T01:30", "2026-03-29T21:30", "2026-03-29T22:30"):
            at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
            seed_alert(app, desk, "room-2", at, ack_after_s=60, close_after_s=60)
        autumn = {"from": "2026-10-24T00:00:00+02:00", "to": "2026-10-26T00:00:00+01:00"}
        spring = {"from": "2026-03-29T00:00:00+01:00", "to": "2026-03-31T00:00:00+02:00"}
        autumn_hours = await app.admin_get(API, group_by="hour", **autumn)
        autumn_days = await app.admin_get(API, group_by="day", **autumn)
        spring_hours = await app.admin_get(API, group_by="hour", **spring)
        spring_days = await app.admin_get(API, group_by="day", **spring)
    assert _local_hours(autumn_hours) == [("00", 1), ("02", 2), ("23", 1)]
    assert _local_hours(autumn_days) == [("2026-10-24", 1), ("2026-10-25", 3)]
    assert _local_hours(spring_hours) == [("00", 1), ("01", 1), ("03", 1), ("23", 1)]
    assert _local_hours(spring_days) == [("2026-03-29", 3), ("2026-03-30", 1)]
    assert autumn_hours["timezone"] == "Europe/Oslo"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"from": "2026-11-20T00:00:00Z", "to": "2026-11-19T00:00:00Z"}, "is after to"),
        ({"group_by": "shift"}, "group_by: unknown 'shift'"),
        ({"from": "yesterday"}, "from: 'yesterday' is not an ISO time"),
        ({"to": "2026-11-20T10:00:00"}, "to: '2026-11-20T10:00:00' has no UTC offset"),
        ({"format": "xlsx"}, "format: unknown 'xlsx'"),
    ],
)
async def test_bad_input_is_a_422_naming_the_problem(
    ward: InProcess, params: dict[str, str], problem: str
) -> None:
    answer = await ward.client.get(API, params=params, headers=ward.admin_headers)
    assert answer.status_code == 422
    assert problem in answer.json()["detail"]


async def test_an_unencoded_plus_offset_still_reads(ward: InProcess) -> None:
    path = API + "?from=2026-11-18T00:00:00+01:00&to=2026-11-21T00:00:00+01:00"
    answer = await ward.client.get(path, headers=ward.admin_headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["from"] == "2026-11-18T00:00:00+01:00"


async def test_reports_need_the_admin_token(ward: InProcess) -> None:
    for path in (API, "/api/v1/reports/drills"):
        assert (await ward.client.get(path)).status_code == 401


def test_an_unknown_time_zone_is_a_config_error_naming_it() -> None:
    from server.config import load_config
    from server.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        load_config(env={"ALERT_SERVER_SERVER_TIMEZONE": "Mars/Olympus"})


async def test_a_half_hour_zone_splits_one_utc_hour_into_two_local_hours(tmp_path: Path) -> None:
    env = {"ALERT_SERVER_SERVER_TIMEZONE": "Asia/Kolkata"}  # UTC+05:30
    async with in_process(tmp_path / "data", env, clock=lambda: NOW) as app:
        desk = (await app.add("ward-b"))["id"]
        for minute in (10, 20, 40):
            at = datetime(2026, 11, 19, 0, minute, tzinfo=UTC)
            seed_alert(app, desk, "room-1", at, ack_after_s=60, close_after_s=60)
        report = await app.admin_get(API, group_by="hour")
    assert _local_hours(report) == [("05", 2), ("06", 1)]
