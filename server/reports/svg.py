"""Bar charts drawn on the server as inline SVG (no script, no web font, prints as it shows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 480
BAR_COLOUR = "#1f5fbf"
FAINT = "#d9dee3"
TEXT = "#1d2329"
FONT = "font-family='system-ui, sans-serif'"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None draws no bar (no data), which is not the same as zero
    note: str = ""  # shown on hover and read by screen readers


def column_chart(title: str, bars: Sequence[Bar], unit: str, *, height: int = 220) -> str:
    """Vertical bars left to right (hours of the day, days)."""
    top, bottom, left = 28, 34, 62
    plot_h = height - top - bottom
    plot_w = WIDTH - left - 8
    peak = _peak(bars)
    step = plot_w / max(1, len(bars))
    label_every = max(1, round(len(bars) / 8))
    parts = _frame(title, height)
    parts += _gridlines(peak, unit, left, top, plot_h)
    for i, bar in enumerate(bars):
        x = left + i * step
        if bar.value is not None and peak > 0:
            h = plot_h * bar.value / peak
            parts.append(
                f"<rect x='{x + step * 0.12:.1f}' y='{top + plot_h - h:.1f}' "
                f"width='{step * 0.76:.1f}' height='{h:.1f}' fill='{BAR_COLOUR}'>"
                f"<title>{escape(bar.label)}: {escape(_amount(bar.value, unit))}"
                f"{escape(bar.note)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f"<text x='{x + step / 2:.1f}' y='{height - bottom + 16}' font-size='13' "
                f"text-anchor='middle' fill='{TEXT}'>{escape(bar.label)}</text>"
            )
    return _close(parts)


def row_chart(title: str, bars: Sequence[Bar], unit: str) -> str:
    """Horizontal bars top to bottom, labelled on the left (the slowest sources)."""
    row_h, top, left = 26, 28, 130
    height = top + row_h * max(1, len(bars)) + 8
    plot_w = WIDTH - left - 90
    peak = _peak(bars)
    parts = _frame(title, height)
    if not bars:
        parts.append(_empty(top + 16))
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(
            f"<text x='{left - 6}' y='{y + row_h * 0.68:.1f}' font-size='13' "
            f"text-anchor='end' fill='{TEXT}'>{escape(_clip(bar.label))}</text>"
        )
        if bar.value is None:
            continue
        w = plot_w * bar.value / peak if peak > 0 else 0
        parts.append(
            f"<rect x='{left}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' "
            f"fill='{BAR_COLOUR}'><title>{escape(bar.label)}{escape(bar.note)}</title></rect>"
            f"<text x='{left + w + 5:.1f}' y='{y + row_h * 0.68:.1f}' font-size='13' "
            f"fill='{TEXT}'>{escape(_amount(bar.value, unit))}</text>"
        )
    return _close(parts)


def _frame(title: str, height: int) -> list[str]:
    return [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {height}' role='img' "
        f"aria-label='{escape(title)}' class='chart' {FONT}>",
        f"<title>{escape(title)}</title>",
        f"<text x='0' y='16' font-size='14' font-weight='600' fill='{TEXT}'>{escape(title)}</text>",
    ]


def _gridlines(peak: float, unit: str, left: int, top: int, plot_h: int) -> list[str]:
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f"<line x1='{left}' x2='{WIDTH - 8}' y1='{y:.1f}' y2='{y:.1f}' stroke='{FAINT}'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' font-size='13' text-anchor='end' "
            f"fill='{TEXT}'>{escape(_amount(peak * fraction, unit))}</text>"
        )
    if peak <= 0:
        parts.append(_empty(top + plot_h / 2))
    return parts


def _empty(y: float) -> str:
    return (
        f"<text x='{WIDTH / 2}' y='{y:.1f}' font-size='13' text-anchor='middle' "
        f"fill='{TEXT}'>no calls in this range</text>"
    )


def _close(parts: list[str]) -> str:
    parts.append("</svg>")
    return "".join(parts)


def _peak(bars: Sequence[Bar]) -> float:
    return max((b.value for b in bars if b.value is not None), default=0.0)


def _amount(value: float, unit: str) -> str:
    if unit == "s":
        return duration(value)
    return f"{value:.0f}"


def duration(seconds: float | None) -> str:
    """90 → "1m 30s"; None → "-"."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _clip(label: str, limit: int = 16) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
