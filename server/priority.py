"""Alert priority (pure): what a mapping's `priority` rule makes of a payload.

A rule is a priority name (`"urgent"`), `{"value": "urgent"}`, or
`{"field": "a^b", "map": {"hold": "urgent"}, "default": "normal"}`: the field's text, through
`map` when given, must be a priority name, else `default` applies. With no rule, a top-level
`priority` in the body (what flic-bridge sends from `[[button]] priority_on`) is used when it
is a priority name. Nothing here ever refuses a message: an unknown value means `default`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Priority = Literal["urgent", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("urgent", "high", "normal", "low")
DEFAULT_PRIORITY: Priority = "normal"
BODY_FIELD = ("priority",)


class PrioritySpec(BaseModel):
    """`{"value": P}` or `{"field": F, "map"?: {text: P}, "default"?: P}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Priority | None = None
    field: str | None = Field(default=None, min_length=1, max_length=200)
    map: dict[str, Priority] = Field(default_factory=dict, max_length=100)
    default: Priority = DEFAULT_PRIORITY

    @model_validator(mode="before")
    @classmethod
    def _a_name_alone(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_of(self) -> PrioritySpec:
        if (self.field is None) == (self.value is None):
            raise ValueError('give a priority name, {"value": ...} or {"field": ...}')
        if self.value is not None and self.map:
            raise ValueError('"map" goes with "field", not "value"')
        return self


def priority_of(
    spec: PrioritySpec | None,
    payload: Any,
    text_at: Callable[[Any, tuple[str, ...]], str | None],
) -> tuple[Priority, str]:
    """The priority, and a note for the inbound log when a value was not a priority name."""
    if spec is not None and spec.value is not None:
        return spec.value, ""
    path = BODY_FIELD if spec is None or spec.field is None else tuple(spec.field.split("^"))
    fallback = DEFAULT_PRIORITY if spec is None else spec.default
    text = text_at(payload, path)
    if text is None:
        return fallback, ""
    if spec is not None and spec.map:
        return spec.map.get(text, fallback), ""  # a value the map does not name: the default
    name = text.strip().lower()
    for known in PRIORITIES:
        if name == known:
            return known, ""
    return fallback, f"; priority {text[:50]!r} is not one of {', '.join(PRIORITIES)}: {fallback}"
