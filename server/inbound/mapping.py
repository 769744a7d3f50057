"""The mapping engine (pure): a parsed payload and an integration's mapping give a `Decision`.

Fields are addressed with `^`-separated paths (`alerts^0^status`); list items by index.
Order: filters (drop or keep), then source name and id, then status: `open_when` is checked
before `close_when`, so a value matching both opens. Conditions are case-sensitive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any, Literal

import jinja2

from server.inbound.mapping_spec import (
    FLIC_DEFAULT_MAPPING,
    FLIC_SAMPLE_DATA,
    MAX_DESCRIPTION_CHARS,
    MAX_PATTERN_CHARS,
    MAX_TITLE_CHARS,
    TEMPLATES,
    ConditionSpec,
    FieldSpec,
    FilterSpec,
    MappingError,
    MappingSpec,
    Verdict,
    compile_regex,
)
from server.patterns import Pattern
from server.priority import Priority, PrioritySpec, priority_of
from server.reports.drills import drill_flag

__all__ = [
    "FLIC_DEFAULT_MAPPING",
    "FLIC_SAMPLE_DATA",
    "MAX_DESCRIPTION_CHARS",
    "MAX_PATTERN_CHARS",
    "MAX_TITLE_CHARS",
    "ConditionSpec",
    "FieldSpec",
    "FilterSpec",
    "MappingError",
    "MappingSpec",
    "Verdict",
]


# ---- the compiled form (what the engine runs) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldRef:
    path: tuple[str, ...] | None
    value: str | None

    @property
    def label(self) -> str:
        return "^".join(self.path) if self.path is not None else repr(self.value)


@dataclass(frozen=True, slots=True)
class Condition:
    op: Literal["contains", "equals", "regex"]
    operand: str
    pattern: Pattern | None

    def matches(self, text: str) -> bool:
        if self.op == "contains":
            return self.operand in text
        if self.op == "equals":
            return text == self.operand
        assert self.pattern is not None
        return self.pattern.search(text) is not None

    def describe(self) -> str:
        return f"{self.op} {self.operand!r}"


@dataclass(frozen=True, slots=True)
class Filter:
    path: tuple[str, ...]
    pattern: Pattern
    keep: bool


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Names Jinja2 reads as literals or special variables, never as a context key.
_JINJA_NAMES = frozenset(
    [
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
        "self",
        "loop",
        "caller",
        "varargs",
        "kwargs",
        "super",
    ]
)


@dataclass(frozen=True, slots=True)
class Template:
    """A title or description template: sandboxed Jinja2, with a shortcut for the usual shape.

    Most templates are text with `{{ name }}` placeholders (the Flic one is
    `{{ flic_nameId }} pressed`). Those are filled in directly when every name is a text value
    of the context, which gives what Jinja2 would; anything else is rendered by Jinja2.
    """

    jinja: jinja2.Template
    pieces: tuple[str, ...] | None  # text, name, text, name, ..., text; None: Jinja2 only

    @classmethod
    def compile(cls, source: str) -> Template:
        # As Jinja2 reads it: every line break is "\n" and one at the very end is dropped.
        lines = _LINE_BREAK.split(source)
        if lines[-1] == "":
            del lines[-1]
        pieces = tuple(_PLACEHOLDER.split("\n".join(lines)))
        simple = not any(mark in text for text in pieces[::2] for mark in ("{{", "{%", "{#"))
        simple = simple and not _JINJA_NAMES.intersection(pieces[1::2])
        return cls(TEMPLATES.from_string(source), pieces if simple else None)

    def render(self, context: AbcMapping[str, Any]) -> str:
        pieces = self.pieces
        if pieces is not None:
            values = [context.get(name) for name in pieces[1::2]]
            texts = [value for value in values if type(value) is str]
            if len(texts) == len(values):
                out = [pieces[0]]
                for value, text in zip(texts, pieces[2::2], strict=True):
                    out += (value, text)
                return "".join(out)
        return self.jinja.render(context)


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    source_name: FieldRef
    source_id: FieldRef | None
    status: FieldRef
    open_when: Condition
    close_when: Condition | None
    title: Template
    description: Template
    filters: tuple[Filter, ...]
    priority: PrioritySpec | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a message means: `verdict` plus what the store needs to act on it."""

    verdict: Verdict
    reason: str
    source_name: str | None = None
    source_id: str = ""
    status_value: str | None = None
    title: str = ""
    description: str = ""
    priority: Priority = "normal"
    drill: bool = False  # the body asked for a drill (server/reports/drills.py)


def parse_path(path: str) -> tuple[str, ...]:
    """`a^0^b` → ("a", "0", "b")."""
    return tuple(path.split("^"))


def compile_mapping(spec: MappingSpec | AbcMapping[str, Any]) -> CompiledMapping:
    """Validate (when given a dict) and compile a mapping; raises MappingError."""
    if not isinstance(spec, MappingSpec):
        try:
            spec = MappingSpec.model_validate(spec)
        except ValueError as exc:
            raise MappingError(str(exc)) from exc
    return CompiledMapping(
        source_name=_field_ref(spec.source_name),
        source_id=_field_ref(spec.source_id) if spec.source_id is not None else None,
        status=_field_ref(spec.status),
        open_when=_condition(spec.open_when),
        close_when=_condition(spec.close_when) if spec.close_when is not None else None,
        title=Template.compile(spec.title),
        description=Template.compile(spec.description),
        filters=tuple(
            Filter(parse_path(f.field), compile_regex(f.regex), f.keep) for f in spec.filters
        ),
        priority=spec.priority,
    )


def _field_ref(spec: FieldSpec) -> FieldRef:
    if spec.field is not None:
        return FieldRef(parse_path(spec.field), None)
    return FieldRef(None, spec.value)


def _condition(spec: ConditionSpec) -> Condition:
    if spec.contains is not None:
        return Condition("contains", spec.contains, None)
    if spec.equals is not None:
        return Condition("equals", spec.equals, None)
    assert spec.regex is not None
    return Condition("regex", spec.regex, compile_regex(spec.regex))


_MISSING = object()


def lookup(payload: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`, or `_MISSING`; list items are addressed by index."""
    node = payload
    for part in path:
        if isinstance(node, AbcMapping):
            if part not in node:
                return _MISSING
            node = node[part]
        elif isinstance(node, list):
            try:
                index = int(part)
            except ValueError:
                return _MISSING
            if not -len(node) <= index < len(node):
                return _MISSING
            node = node[index]
        else:
            return _MISSING
    return node


def as_text(value: Any) -> str | None:
    """A field value as the text conditions see; None when missing or null."""
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def resolve(ref: FieldRef, payload: Any) -> str | None:
    """The text a field reference names in `payload`."""
    if ref.path is None:
        return ref.value
    return as_text(lookup(payload, ref.path))


def decide(payload: Any, mapping: CompiledMapping) -> Decision:
    """Apply filters, source, status and templates to one parsed payload."""
    for flt in mapping.filters:
        text = as_text(lookup(payload, flt.path))
        hit = text is not None and flt.pattern.search(text) is not None
        label = "^".join(flt.path)
        if flt.keep and not hit:
            return Decision(
                "filtered", f"keep filter {label} ~ {flt.pattern.pattern!r} not matched"
            )
        if not flt.keep and hit:
            return Decision("filtered", f"drop filter {label} ~ {flt.pattern.pattern!r} matched")
    source_name = resolve(mapping.source_name, payload)
    if not source_name:
        return Decision("failed", f"source name field {mapping.source_name.label} is missing")
    source_id = ""
    if mapping.source_id is not None:
        found = resolve(mapping.source_id, payload)
        if not found:
            return Decision(
                "failed", f"source id field {mapping.source_id.label} is missing", source_name
            )
        source_id = found
    status = resolve(mapping.status, payload)
    if status is None:
        return Decision(
            "failed", f"status field {mapping.status.label} is missing", source_name, source_id
        )
    if mapping.open_when.matches(status):
        title, description, note = render(mapping, payload, source_name, source_id, status)
        priority, odd = priority_of(mapping.priority, payload, lambda p, at: as_text(lookup(p, at)))
        reason = f"status {status!r} {mapping.open_when.describe()}{note}{odd}"
        drill = drill_flag(payload)
        reason += "; drill" if drill else ""
        return Decision(
            "open",
            reason,
            source_name,
            source_id,
            status,
            title,
            description,
            priority=priority,
            drill=drill,
        )
    if mapping.close_when is not None and mapping.close_when.matches(status):
        reason = f"status {status!r} {mapping.close_when.describe()}"
        return Decision("close", reason, source_name, source_id, status)
    wanted = f"open: {mapping.open_when.describe()}"
    if mapping.close_when is not None:
        wanted += f", close: {mapping.close_when.describe()}"
    return Decision(
        "ignore",
        f"status {status!r} is neither open nor close ({wanted})",
        source_name,
        source_id,
        status,
    )


def render(
    mapping: CompiledMapping, payload: Any, source_name: str, source_id: str, status: str
) -> tuple[str, str, str]:
    """Title, description and a note naming any template that failed (its fallback is used)."""
    # The body's own top-level keys win over these helper names (PagerDuty has a `payload`).
    context: dict[str, Any] = {
        "payload": payload,
        "source_name": source_name,
        "source_id": source_id,
        "status_value": status,
    }
    if isinstance(payload, AbcMapping):
        context.update(payload)
    note = ""
    try:
        title = mapping.title.render(context).strip()
    except Exception as exc:  # sandbox violations and any template runtime error
        title, note = "", f"; title template failed: {type(exc).__name__}"
    try:
        description = mapping.description.render(context).strip()
    except Exception as exc:
        description, note = "", note + f"; description template failed: {type(exc).__name__}"
    if not title:
        title = f"{source_name} alert"
    return title[:MAX_TITLE_CHARS], description[:MAX_DESCRIPTION_CHARS], note
