"""The /metrics checker itself rejects what a Prometheus server would reject."""

from __future__ import annotations

import pytest

from tests.ops import prometheus

GOOD = """# HELP clicks_total Clicks.
# TYPE clicks_total counter
clicks_total{source="flicd",click_type="single"} 3
clicks_total{source="hub",click_type="single"} 2
outbox_oldest_age_seconds 1.5e+00
"""


def test_reads_samples_and_sums_by_label() -> None:
    samples = prometheus.parse(GOOD)
    assert prometheus.total(samples, "clicks_total", click_type="single") == 5
    assert prometheus.total(samples, "clicks_total", source="hub") == 2
    assert prometheus.total(samples, "outbox_oldest_age_seconds") == 1.5


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("clicks_total 1", "newline"),
        ("bad-name 1\n", "not a sample|bad metric name"),
        ('x{a="1",a="2"} 1\n', "repeated label"),
        ("x{a=1} 1\n", "bad label set"),
        ("x one\n", "bad value"),
        ("x 1\nx 2\n", "duplicate series"),
        ("# TYPE x counter\n# TYPE x gauge\nx 1\n", "second TYPE"),
        ("# TYPE x widget\nx 1\n", "bad TYPE"),
    ],
)
def test_rejects_malformed_text(text: str, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        prometheus.parse(text)
