"""The server's reporting time zone: `[server] timezone`, else the machine's, else UTC."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALTIME = Path("/etc/localtime")


def check_zone(name: str) -> str:
    """`name` when it is a known IANA zone (raises ValueError naming it otherwise)."""
    if name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {name!r} (an IANA name such as Europe/Oslo)"
            ) from exc
    return name


def resolve_zone(name: str, localtime: Path = LOCALTIME) -> ZoneInfo:
    """The configured zone; empty means `TZ`, then /etc/localtime's zone name, then UTC."""
    for candidate in (name, os.environ.get("TZ", "").lstrip(":"), _link_name(localtime)):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _link_name(localtime: Path) -> str:
    try:
        target = str(localtime.resolve(strict=True))
    except OSError:
        return ""
    _, found, tail = target.partition("zoneinfo/")
    return tail if found else ""
