"""Counters for `/metrics`, rendered in the Prometheus text format."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """The bridge's counters; gauges are read from the outbox when rendered."""

    def __init__(self) -> None:
        self.clicks: Counter[tuple[str, str]] = Counter()  # (source, click_type)
        self.deliveries: Counter[tuple[str, str]] = Counter()  # (target, outcome)

    def click(self, source: str, click_type: str) -> None:
        self.clicks[(source, click_type)] += 1

    def delivery(self, target: str, outcome: str) -> None:
        self.deliveries[(target, outcome)] += 1

    def render(self, gauges: Iterable[tuple[str, str, float, dict[str, str]]]) -> str:
        """Prometheus text: the counters plus `gauges` as (name, help, value, labels)."""
        lines = [
            "# HELP flic_bridge_clicks_total Clicks accepted, by source and click type.",
            "# TYPE flic_bridge_clicks_total counter",
        ]
        for (source, click_type), n in sorted(self.clicks.items()):
            lines.append(
                f"flic_bridge_clicks_total"
                f"{_labels([('source', source), ('click_type', click_type)])} {n}"
            )
        lines += [
            "# HELP flic_bridge_deliveries_total Delivery attempts, by target and outcome.",
            "# TYPE flic_bridge_deliveries_total counter",
        ]
        for (target, outcome), n in sorted(self.deliveries.items()):
            lines.append(
                f"flic_bridge_deliveries_total"
                f"{_labels([('target', target), ('outcome', outcome)])} {n}"
            )
        seen: set[str] = set()
        for name, help_text, value, labels in gauges:
            if name not in seen:
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
                seen.add(name)
            lines.append(f"{name}{_labels(sorted(labels.items()))} {value:g}")
        return "\n".join(lines) + "\n"
