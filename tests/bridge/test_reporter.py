"""`[bridge] report_url`: validated settings, and what a report says about the bridge."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app.reporter import report_body
from bridge.config import parse_config
from bridge.errors import ConfigError


def test_report_settings_are_read_and_checked() -> None:
    config = parse_config(
        {"bridge": {"report_url": "http://a:8380/api/v1/bridges", "report_token": "t0k"}}
    )
    assert config.bridge.report is not None
    assert config.bridge.report.url == "http://a:8380/api/v1/bridges"
    assert config.bridge.report.every_s == 30
    assert "t0k" not in repr(config.bridge.report)
    assert parse_config({}).bridge.report is None
    with pytest.raises(ConfigError) as caught:
        parse_config({"bridge": {"report_url": "a:8380/api", "report_every_s": 0}, "forward": []})
    problems = "\n".join(caught.value.problems)
    assert "bridge.report_url: 'a:8380/api' is not an http:// or https:// URL" in problems
    assert "bridge.report_every_s:" in problems
    with pytest.raises(ConfigError, match="report_url needs report_token"):
        parse_config({"bridge": {"report_url": "http://a/api/v1/bridges"}})


STATUS: dict[str, Any] = {
    "bridge": "ward-3",
    "sources": [{"name": "flicd", "state": "connected"}, {"name": "hub", "state": "listening"}],
    "buttons": [
        {
            "name": "bed-1",
            "address": "80:e4:da:71:23:45",
            "connected": True,
            "battery": 90,
            "last_click": None,
            "other": 1,
        }
    ],
    "outbox": {"pending": 3, "oldest_age_s": 4.5, "delivered": 10, "dead": 0},
    "targets": [
        {
            "name": "t",
            "url": "http://a/x",
            "pending": 3,
            "dead": 0,
            "failing_since": None,
            "last_error": None,
        }
    ],
    "health": [],
}


def test_a_healthy_bridge_reports_ok_with_its_buttons_and_outbox() -> None:
    body = report_body(STATUS)
    assert body["name"] == "ward-3"
    assert (body["status"], body["problems"]) == ("ok", [])
    assert body["buttons"] == [
        {
            "name": "bed-1",
            "address": "80:e4:da:71:23:45",
            "connected": True,
            "battery": 90,
            "last_click": None,
        }
    ]
    assert body["outbox_pending"] == 3


def test_a_source_down_a_failing_target_or_dead_letters_report_degraded() -> None:
    status = {
        **STATUS,
        "sources": [{"name": "flicd", "state": "down"}],
        "outbox": {**STATUS["outbox"], "dead": 2},
        "targets": [{**STATUS["targets"][0], "failing_since": "2026-11-26T07:00:00Z"}],
    }
    body = report_body(status)
    assert body["status"] == "degraded"
    assert body["problems"] == ["source flicd is down", "target t failing", "2 dead letter(s)"]
