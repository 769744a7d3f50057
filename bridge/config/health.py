"""The `[health]` settings and a button's `health = {...}`: inside values and edge models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """When a button counts as unhealthy; None turns that check off."""

    battery_below: int | None = 15  # percent
    unseen_after_s: float | None = 86400.0  # no connection, no press, no battery report


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """`[health]`: the bridge's own alerts about its buttons and sources (on by default)."""

    enabled: bool = True
    defaults: HealthThresholds = field(default_factory=HealthThresholds)
    source_down_after_s: float | None = 300.0
    check_every_s: float = 30.0


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthIn(_Section):
    """`[health]`; a threshold of 0 turns that check off."""

    enabled: bool = True
    battery_below: int = Field(default=15, ge=0, le=100)
    unseen_after_s: float = Field(default=86400.0, ge=0)
    source_down_after_s: float = Field(default=300.0, ge=0)
    check_every_s: float = Field(default=30.0, gt=0, le=3600)


class ButtonHealthIn(_Section):
    """`health = {...}` on a `[[button]]`: its own thresholds over `[health]` (0: off)."""

    enabled: bool = True
    battery_below: int | None = Field(default=None, ge=0, le=100)
    unseen_after_s: float | None = Field(default=None, ge=0)


def threshold_or_none(value: float) -> Any:
    """A threshold, or None when 0 turns the check off."""
    return None if value == 0 else value


def button_health(given: ButtonHealthIn | None, defaults: HealthIn) -> HealthThresholds | None:
    """A button's own thresholds over the `[health]` ones; `enabled = false` turns both off."""
    if given is None:
        return None
    if not given.enabled:
        return HealthThresholds(None, None)
    battery = defaults.battery_below if given.battery_below is None else given.battery_below
    unseen = defaults.unseen_after_s if given.unseen_after_s is None else given.unseen_after_s
    return HealthThresholds(threshold_or_none(battery), threshold_or_none(unseen))
