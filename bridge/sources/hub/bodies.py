"""What a Flic Hub module may post to `/hub/events`, read strictly, with clear problems."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from bridge.models import ClickType

MAX_BODY_BYTES = 64 * 1024
# A press that reaches the bridge this long after it was made counts as queued.
QUEUED_AFTER_S = 30.0
# A hub clock this far off is wrong: the press time falls back to the arrival time.
MAX_CLOCK_SKEW = timedelta(days=7)
_MAX_EPOCH_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z

Address = Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
EventId = Annotated[
    StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$")
]
HubId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
StrictName = Annotated[StrictStr, Field(max_length=128)]
Battery = Annotated[StrictInt, Field(ge=0, le=100)]
Count = Annotated[StrictInt, Field(ge=0)]
Seconds = Annotated[StrictInt | StrictFloat, Field(ge=0, le=10 * 365 * 86400)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class ClickBody(_Body):
    """A press forwarded by a hub module."""

    type: Literal["click"]
    bdaddr: Address
    click: ClickType
    event_id: EventId
    name: StrictName | None = None
    battery: Battery | None = None
    pressed_at: StrictInt | StrictFloat | StrictStr | None = None  # ms since 1970, or ISO 8601
    queued: StrictBool = False
    queued_s: Seconds = 0.0
    hub_id: HubId | None = None


class HubButton(_Body):
    """One button in a heartbeat."""

    bdaddr: Address
    name: StrictName | None = None
    battery: Battery | None = None
    connected: StrictBool | None = None


class DroppedReport(_Body):
    """Presses the hub's full queue dropped since its last heartbeat got through."""

    count: Count = 0
    event_ids: Annotated[list[EventId], Field(max_length=1000)] = []


class RejectedReport(_Body):
    """A press the bridge refused for good, as the hub saw it."""

    event_id: EventId
    status: StrictInt | None = None


class HeartbeatBody(_Body):
    """A hub's periodic news: alive, its buttons, what it dropped."""

    type: Literal["heartbeat"]
    hub_id: HubId
    buttons: Annotated[list[HubButton], Field(max_length=1000)] = []
    dropped: DroppedReport | Count = DroppedReport()
    rejected: Annotated[list[RejectedReport], Field(max_length=1000)] = []
    pending: Count | None = None
    uptime_s: Seconds | None = None
    heartbeat_s: Annotated[StrictInt | StrictFloat, Field(gt=0, le=86400)] | None = None


class BodyError(ValueError):
    """A body the receiver cannot use; the message names the problem."""


def parse_pressed_at(value: int | float | str | None, now: datetime) -> datetime:
    """The press time a hub reported (ms epoch or ISO 8601), trusted only within clock skew."""
    if value is None:
        return now
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value <= _MAX_EPOCH_MS:
            raise BodyError("pressed_at: not a time in milliseconds since 1970")
        at = datetime.fromtimestamp(value / 1000, tz=UTC)
    else:
        try:
            at = datetime.fromisoformat(value.strip())
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except (ValueError, OverflowError):
            raise BodyError(f"pressed_at: {value[:40]!r} is not an ISO 8601 time") from None
    if at > now or now - at > MAX_CLOCK_SKEW:
        return now
    return at


def queued_info(
    reported: bool, reported_s: float, pressed_at: datetime, now: datetime
) -> tuple[bool, float]:
    """Whether a press counts as queued, and for how long: the button's or the hub's delay."""
    age_s = max(0.0, (now - pressed_at).total_seconds())
    if reported:
        return True, max(reported_s, age_s)
    if age_s >= QUEUED_AFTER_S:
        return True, age_s
    return False, 0.0


_PATTERN_HINTS = {
    "bdaddr": "must look like 80:e4:da:71:23:45",
    "event_id": "must be text without spaces or control characters",
    "event_ids": "must be text without spaces or control characters",
    "hub_id": "must be text without control characters",
}


def problems_of(exc: ValidationError) -> list[str]:
    """One "field: problem" line per validation error, in words a hub author understands."""
    out = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "body"
        message = err["msg"]
        if err["type"] == "string_pattern_mismatch":
            names = [part for part in err["loc"] if isinstance(part, str)]
            message = _PATTERN_HINTS.get(names[-1] if names else "", message)
        out.append(f"{where}: {message}")
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object in a body, or BodyError naming why there is none."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(f"body is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise BodyError("body is empty: expected a JSON object")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BodyError("body is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise BodyError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BodyError(f"body must be a JSON object, not {type(data).__name__}")
    return data
