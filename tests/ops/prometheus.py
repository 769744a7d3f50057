"""A strict reader of the Prometheus text exposition format (0.0.4), for checking /metrics."""

from __future__ import annotations

import math
import re

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

Series = tuple[str, frozenset[tuple[str, str]]]


def _labels(text: str, where: str) -> frozenset[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        found = _LABEL.match(text, pos)
        assert found, f"{where}: bad label set {text!r}"
        pairs.append((found.group(1), found.group(2)))
        pos = found.end()
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), f"{where}: repeated label in {text!r}"
    return frozenset(pairs)


def parse(text: str) -> dict[Series, float]:
    """Every sample by (name, labels); fails on anything a Prometheus server would reject."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    samples: dict[Series, float] = {}
    typed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}"
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                assert _NAME.fullmatch(parts[2]), f"{where}: bad metric name {parts[2]!r}"
                if parts[1] == "TYPE":
                    kind = parts[3] if len(parts) == 4 else ""
                    assert kind in _TYPES, f"{where}: bad TYPE {line!r}"
                    assert parts[2] not in typed, f"{where}: second TYPE for {parts[2]}"
                    typed[parts[2]] = kind
            continue
        found = re.fullmatch(r"([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?", line)
        assert found, f"{where}: not a sample: {line!r}"
        name, labels, value = found.group(1), found.group(2) or "", found.group(3)
        assert _NAME.fullmatch(name), f"{where}: bad metric name {name!r}"
        try:
            number_value = float(value)
        except ValueError:
            raise AssertionError(f"{where}: bad value {value!r}") from None
        assert not math.isnan(number_value) or value == "NaN", f"{where}: bad value {value!r}"
        series = (name, _labels(labels, where))
        assert series not in samples, f"{where}: duplicate series {line!r}"
        samples[series] = number_value
    return samples


def total(samples: dict[Series, float], name: str, **labels: str) -> float:
    """The sum of `name` over every series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))
