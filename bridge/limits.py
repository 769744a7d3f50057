"""The `[limits]` section: how much the bridge keeps of what others can make it store."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

MAX_OUTBOX_CLICKS = 100_000
MAX_UNKNOWN_BUTTONS = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on the outbox and on the unconfigured buttons remembered (see the README)."""

    max_outbox_clicks: int = MAX_OUTBOX_CLICKS
    max_unknown_buttons: int = MAX_UNKNOWN_BUTTONS


class LimitsIn(BaseModel):
    """`[limits]` as written in the TOML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_outbox_clicks: int = Field(default=MAX_OUTBOX_CLICKS, ge=100)
    max_unknown_buttons: int = Field(default=MAX_UNKNOWN_BUTTONS, ge=1)

    def inside(self) -> Limits:
        return Limits(self.max_outbox_clicks, self.max_unknown_buttons)
