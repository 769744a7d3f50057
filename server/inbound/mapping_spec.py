"""An integration's mapping as admins write it: the validated pydantic models and the limits.

`server.inbound.mapping` compiles a `MappingSpec` and runs it; both names are importable there.
"""

from __future__ import annotations

from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.patterns import Pattern, PatternError, compile_pattern
from server.priority import PrioritySpec

MAX_TITLE_CHARS = 500
MAX_DESCRIPTION_CHARS = 10_000
MAX_PATTERN_CHARS = 500

# `acknowledge` and `note` come only from kinds with their own format (PagerDuty events).
Verdict = Literal["open", "close", "acknowledge", "note", "ignore", "filtered", "failed"]

FLIC_DEFAULT_MAPPING: dict[str, Any] = {
    "source_name": {"field": "flic_nameId"},
    "status": {"field": "flic_state"},
    "open_when": {"contains": "On"},
    "close_when": {"contains": "Off"},
    "title": "{{ flic_nameId }} pressed",
    "description": "{{ info }}",
    "filters": [],
}

FLIC_SAMPLE_DATA: dict[str, Any] = {
    "flic_nameId": "front-desk",
    "flic_state": "On",
    "info": "Front desk button",
}


class MappingError(ValueError):
    """A mapping definition is invalid (bad regex, bad template, missing rule)."""


# ---- the edge model (what admins send) -----------------------------------------------------


class FieldSpec(BaseModel):
    """`{"field": "a^b"}` or `{"value": "static text"}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = Field(default=None, min_length=1, max_length=200)
    value: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_of(self) -> FieldSpec:
        if (self.field is None) == (self.value is None):
            raise ValueError('give exactly one of "field" or "value"')
        return self


class ConditionSpec(BaseModel):
    """`{"contains": s}`, `{"equals": s}` or `{"regex": r}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contains: str | None = Field(default=None, max_length=500)
    equals: str | None = Field(default=None, max_length=500)
    regex: str | None = Field(default=None, max_length=MAX_PATTERN_CHARS)

    @model_validator(mode="after")
    def _one_of(self) -> ConditionSpec:
        given = [v for v in (self.contains, self.equals, self.regex) if v is not None]
        if len(given) != 1:
            raise ValueError('give exactly one of "contains", "equals" or "regex"')
        if self.regex is not None:
            compile_regex(self.regex)
        return self


class FilterSpec(BaseModel):
    """`{"field": F, "regex": R, "keep": true|false}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1, max_length=200)
    regex: str = Field(max_length=MAX_PATTERN_CHARS)
    keep: bool = True

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        compile_regex(value)
        return value


class MappingSpec(BaseModel):
    """An integration's mapping as stored and as the admin API accepts it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_name: FieldSpec
    source_id: FieldSpec | None = None
    status: FieldSpec
    open_when: ConditionSpec
    close_when: ConditionSpec | None = None
    title: str = Field(default="{{ source_name }}", max_length=2000)
    description: str = Field(default="", max_length=5000)
    filters: list[FilterSpec] = Field(default_factory=list, max_length=50)
    priority: PrioritySpec | None = None  # None: the body's own `priority`, else normal

    @field_validator("title", "description")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        try:
            TEMPLATES.parse(value)
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc
        return value


def compile_regex(pattern: str) -> Pattern:
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise ValueError(str(exc)) from exc


TEMPLATES = ImmutableSandboxedEnvironment(autoescape=False)
