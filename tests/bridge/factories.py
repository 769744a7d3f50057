"""Small builders shared by the bridge tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bridge.models import ClickEvent, ClickType

T0 = datetime(2026, 11, 26, 7, 0, 0, tzinfo=UTC)
_ids = itertools.count(1)


def click(
    address: str = "80:e4:da:71:23:45",
    name: str = "front-desk",
    kind: ClickType = ClickType.SINGLE,
    *,
    event_id: str | None = None,
    at: datetime = T0,
    queued_s: float = 0.0,
) -> ClickEvent:
    return ClickEvent(
        event_id=event_id or f"ev-{next(_ids)}",
        button_address=address,
        button_name=name,
        click_type=kind,
        source="flicd",
        pressed_at=at - timedelta(seconds=queued_s),
        received_at=at,
        queued=queued_s > 0,
        queued_s=queued_s,
    )
