"""Reading inbound bodies (pure): JSON, form fields, and the Flic guide's hand-typed key lines.

The Flic app guide has users type `"flic_nameId": "...", "flic_state": "On", "info": "...",`
with a trailing comma and with or without braces; phones may turn quotes into curly ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'})
_VALUE_START = set('"{[-0123456789tfn')


class BodyError(ValueError):
    """The body cannot be read; the message says what is wrong and where."""


@dataclass(frozen=True, slots=True)
class ParsedBody:
    payload: dict[str, Any] | list[Any]
    format: str


def parse_body(raw: bytes, content_type: str = "") -> ParsedBody:
    """Turn raw bytes into a payload, guided by the content type but tolerant of a wrong one."""
    parsed = _parse_body(raw, content_type)
    problem = lone_surrogate(raw, parsed.payload)
    if problem is not None:
        raise BodyError(problem)
    return parsed


# Only a JSON escape (`\ud800`) makes a lone surrogate: UTF-8 decoding refuses encoded ones.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def may_hold_surrogate(raw: bytes) -> bool:
    """Whether a raw JSON body escapes a surrogate (a pair or a lone one): a quick byte scan."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def lone_surrogate(raw: bytes, payload: Any) -> str | None:
    """What is wrong when a parsed body holds a lone surrogate (not text anywhere), else None."""
    if not may_hold_surrogate(raw):
        return None
    stack: list[tuple[Any, str]] = [(payload, "")]
    while stack:  # walked without recursion: bodies may nest deep
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                stack += [(key, f"{where} key"), (item, f"{where}.{key}")]
        elif isinstance(value, list):
            stack += [(item, f"{where}[{i}]") for i, item in enumerate(value)]
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                char = f"\\u{ord(value[exc.start]):04x}"
                place = (where.lstrip(".") or "the top level").encode("utf-8", "replace").decode()
                return (
                    f"the body has a lone surrogate ({char}) in {place}: not valid text"
                    " (send the character itself or a full UTF-16 pair)"
                )
    return None


def _parse_body(raw: bytes, content_type: str) -> ParsedBody:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8 text (bad byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise BodyError("the body contains a NUL character")
    stripped = text.strip()
    if not stripped:
        raise BodyError("the body is empty: send JSON, form fields or the Flic key lines")
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith("multipart/"):
        raise BodyError("multipart bodies are not supported: send JSON, form fields or key lines")
    # Sniff before trusting the media type: `curl -d '{...}'` labels JSON as a form.
    looks_structured = stripped[0] in '{["\u201c'
    if stripped[0] == '"' and (lines := braced_key_lines(stripped)) is not None:
        return ParsedBody(lines, "json" if media.endswith("json") else "flic-text")
    if media == "application/x-www-form-urlencoded" and not looks_structured:
        return ParsedBody(_first_of(stripped, parse_form, parse_key_lines), "form")
    if stripped[0] in "{[" or media.endswith("json"):
        return ParsedBody(_first_of(stripped, parse_json, parse_key_lines), "json")
    if looks_structured:
        return ParsedBody(parse_key_lines(stripped), "flic-text")
    if "=" in stripped and ":" not in stripped.split("=", 1)[0]:
        return ParsedBody(_first_of(stripped, parse_form, parse_key_lines), "form")
    try:
        return ParsedBody(parse_key_lines(stripped), "flic-text")
    except BodyError as exc:
        raise BodyError(f"{exc}; {_EXPECTED}") from None


_EXPECTED = 'send JSON, form fields, or Flic key lines like "flic_state": "On",'


def _first_of(text: str, first: Any, second: Any) -> Any:
    """`first(text)`, else `second(text)`; when both fail, the first error is the one reported."""
    try:
        return first(text)
    except BodyError as first_error:
        try:
            return second(text)
        except BodyError:
            raise first_error from None


def parse_json(text: str) -> dict[str, Any] | list[Any]:
    """Strict JSON whose top level is an object or an array."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (RecursionError, ValueError) as exc:
        raise BodyError(f"invalid JSON: {type(exc).__name__}: {exc}"[:300]) from exc
    if not isinstance(value, dict | list):
        raise BodyError(f"the JSON body is a {type(value).__name__}; send an object")
    return value


def parse_form(text: str) -> dict[str, Any]:
    """`a=1&b=2` form fields; a repeated field keeps its last value."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise BodyError(f"invalid form body: {exc}") from exc
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant)


def braced_key_lines(text: str) -> dict[str, Any] | None:
    """Key lines that are a JSON object once wrapped in braces, read by the C JSON parser.

    The Flic guide's own bodies (`"flic_nameId": "desk", "flic_state": "On",`) are; for those
    this gives what `parse_key_lines` gives, only faster. None for anything else.
    """
    try:
        value = _STRICT_JSON.decode("{" + text.rstrip().rstrip(",") + "}")
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def parse_key_lines(text: str) -> dict[str, Any]:
    """The Flic guide's `"key": value,` lines; braces optional, trailing commas allowed."""
    try:
        return _KeyLines(text).parse()
    except BodyError:
        normalized = text.translate(_CURLY)
        if normalized == text:
            raise
        return _KeyLines(normalized).parse()


class _KeyLines:
    """A small tolerant reader: `"key": value` pairs separated by commas or newlines."""

    def __init__(self, text: str) -> None:
        body = text.strip()
        if body.startswith("{"):
            body = body[1:]
            trimmed = body.rstrip().rstrip(",").rstrip()
            if not trimmed.endswith("}"):
                raise BodyError("the body opens with '{' but never closes it with '}'")
            body = trimmed[:-1]
        self.text = body
        self.pos = 0
        self.decoder = json.JSONDecoder()

    def parse(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self._skip(" \t\r\n,")
            if self.pos >= len(self.text):
                break
            key = self._key()
            self._skip(" \t")
            if self._peek() not in (":", "="):
                raise self._error(f"expected ':' after the key {key!r}")
            self.pos += 1
            self._skip(" \t")
            result[key] = self._value()
            self._skip(" \t\r")
            if self.pos < len(self.text) and self._peek() not in ",\n":
                raise self._error(f"expected ',' or a new line after the value of {key!r}")
        if not result:
            raise BodyError('no "key": value lines found in the body')
        return result

    def _key(self) -> str:
        if self._peek() == '"':
            value = self._decode()
            if not isinstance(value, str):  # pragma: no cover - a '"' always decodes to str
                raise self._error("a key must be text")
            return value
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-.^"
        ):
            self.pos += 1
        if self.pos == start:
            raise self._error(f"expected a quoted key, found {self._peek()!r}")
        return self.text[start : self.pos]

    def _value(self) -> Any:
        if self.pos < len(self.text) and self._peek() in _VALUE_START:
            saved = self.pos
            quoted = self._peek() == '"'
            try:
                value = self._decode()
                self._skip(" \t\r")
                if self.pos >= len(self.text) or self._peek() in ",\n" or quoted:
                    return value
            except BodyError:
                if quoted:
                    raise
            self.pos = saved
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",\n":
            self.pos += 1
        return self.text[start : self.pos].strip()

    def _decode(self) -> Any:
        try:
            value, end = self.decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise self._error(f"cannot read the value: {exc.msg}", exc.pos) from exc
        except (RecursionError, ValueError) as exc:
            raise self._error(f"cannot read the value: {type(exc).__name__}") from exc
        self.pos = end
        return value

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def _error(self, message: str, pos: int | None = None) -> BodyError:
        at = self.pos if pos is None else pos
        line = self.text.count("\n", 0, at) + 1
        column = at - (self.text.rfind("\n", 0, at) + 1) + 1
        return BodyError(f"line {line}, column {column}: {message}")
