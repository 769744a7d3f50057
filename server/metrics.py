"""A small Prometheus text-format registry: counters, plus gauges collected at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, Labels, float]


@dataclass(slots=True)
class _Family:
    kind: str
    help: str
    values: dict[Labels, float] = field(default_factory=dict)


class Metrics:
    """Counters by name and labels; `add_collector` adds a gauge callback run at scrape."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}
        self._collectors: list[tuple[str, str, Callable[[], Iterable[Sample]]]] = []

    def counter(self, name: str, help_text: str) -> None:
        """Declare a counter so it is listed (at 0) before its first increment."""
        self._families.setdefault(name, _Family("counter", help_text))

    def inc(self, name: str, by: float = 1.0, **labels: str) -> None:
        family = self._families.setdefault(name, _Family("counter", name))
        key = tuple(sorted(labels.items()))
        family.values[key] = family.values.get(key, 0.0) + by

    def value(self, name: str, **labels: str) -> float:
        family = self._families.get(name)
        return 0.0 if family is None else family.values.get(tuple(sorted(labels.items())), 0.0)

    def add_collector(
        self, name: str, help_text: str, collect: Callable[[], Iterable[Sample]]
    ) -> None:
        """`collect()` yields (name, labels, value) gauge samples; it runs on each scrape."""
        self._collectors.append((name, help_text, collect))

    def render(self, collected: Iterable[tuple[str, str, Iterable[Sample]]] = ()) -> str:
        lines: list[str] = []
        for name, family in sorted(self._families.items()):
            lines += [f"# HELP {name} {family.help}", f"# TYPE {name} {family.kind}"]
            lines += [f"{name}{_labels(k)} {_num(v)}" for k, v in sorted(family.values.items())]
        for name, help_text, samples in collected:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{n}{_labels(k)} {_num(v)}" for n, k, v in samples]
        return "\n".join(lines) + "\n"

    def collect(self) -> list[tuple[str, str, list[Sample]]]:
        """Run every collector (call on the database thread when they read the database)."""
        return [(name, h, list(fn())) for name, h, fn in self._collectors]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
