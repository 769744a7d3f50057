"""`state_dir/health.json`: what button health must remember across a restart.

The raised alerts, and each button's last battery and last sighting (a fresh process has
neither until the button reports again, which may be hours away). Written atomically
(a temp file, fsynced, then renamed) only when something changed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.core.registry import ButtonState
from edgecommon.timefmt import iso_utc

log = logging.getLogger(__name__)

STATE_FILE = "health.json"


@dataclass(frozen=True, slots=True)
class Remembered:
    """What health last knew of one button."""

    battery: int | None = None
    last_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    """The file's content: raised alerts (as stored) and remembered buttons by address."""

    raised: list[dict[str, Any]]
    buttons: dict[str, Remembered]


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def load(path: Path) -> Saved:
    """The saved state; nothing saved (or unreadable, with a warning) is an empty state.

    The first format (a bare list of raised alerts) is read too.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Saved([], {})
    except (OSError, ValueError) as exc:
        log.warning("health: cannot read %s (%s); starting with no raised alerts", path, exc)
        return Saved([], {})
    if isinstance(raw, list):
        return Saved([i for i in raw if isinstance(i, dict)], {})
    if not isinstance(raw, dict):
        return Saved([], {})
    raised = raw.get("raised")
    buttons: dict[str, Remembered] = {}
    given = raw.get("buttons")
    for address, item in (given if isinstance(given, dict) else {}).items():
        if not isinstance(item, dict):
            continue
        battery = item.get("battery")
        buttons[str(address)] = Remembered(
            battery=battery if isinstance(battery, int) and not isinstance(battery, bool) else None,
            last_seen_at=_time(item.get("last_seen_at")),
        )
    return Saved(
        [i for i in raised if isinstance(i, dict)] if isinstance(raised, list) else [], buttons
    )


def save(path: Path, saved: Saved) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "raised": saved.raised,
        "buttons": {
            address: {
                "battery": item.battery,
                "last_seen_at": None if item.last_seen_at is None else iso_utc(item.last_seen_at),
            }
            for address, item in sorted(saved.buttons.items())
        },
    }
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps(data))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def merged(
    states: Iterable[ButtonState], known: Mapping[str, Remembered]
) -> tuple[list[ButtonState], dict[str, Remembered]]:
    """Button states filled in from memory (battery unknown since the start, an older
    sighting), and the memory they now give."""
    out: list[ButtonState] = []
    memory: dict[str, Remembered] = {}
    for state in states:
        was = known.get(state.spec.address, Remembered())
        battery = state.battery if state.battery is not None else was.battery
        seen = [t for t in (state.last_seen_at, was.last_seen_at) if t is not None]
        last = max(seen) if seen else None
        out.append(replace(state, battery=battery, last_seen_at=last))
        if battery is not None or last is not None:
            memory[state.spec.address] = Remembered(battery, last)
    return out, memory
