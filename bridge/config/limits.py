"""The `[limits]` section: how much the bridge keeps, and waits for, of what others send."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from edgecommon.httplimits import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    KEEP_ALIVE_S,
    MAX_CONNECTIONS,
    HttpLimits,
)

MAX_OUTBOX_CLICKS = 100_000
MAX_UNKNOWN_BUTTONS = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on the outbox and on the unconfigured buttons remembered (see the README)."""

    max_outbox_clicks: int = MAX_OUTBOX_CLICKS
    max_unknown_buttons: int = MAX_UNKNOWN_BUTTONS
    http: HttpLimits = field(default_factory=HttpLimits)


class LimitsIn(BaseModel):
    """`[limits]` as written in the TOML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_outbox_clicks: int = Field(default=MAX_OUTBOX_CLICKS, ge=100)
    max_unknown_buttons: int = Field(default=MAX_UNKNOWN_BUTTONS, ge=1)
    # The web server (status page, /hub/events): a request's headers, then its body, within.
    header_timeout_s: float = Field(default=HEADER_TIMEOUT_S, gt=0, le=3600)
    body_timeout_s: float = Field(default=BODY_TIMEOUT_S, gt=0, le=3600)
    keep_alive_s: float = Field(default=KEEP_ALIVE_S, gt=0, le=3600)
    max_connections: int = Field(default=MAX_CONNECTIONS, ge=1, le=100_000)

    def inside(self) -> Limits:
        http = HttpLimits(
            self.header_timeout_s, self.body_timeout_s, self.keep_alive_s, self.max_connections
        )
        return Limits(self.max_outbox_clicks, self.max_unknown_buttons, http)
