"""Logging for the CLI: plain lines or one-line JSON for journald, secrets always masked."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

MASK = "***"
LOG_FORMATS = ("plain", "json")

# Attributes every LogRecord has; anything else came from `extra=` and is a context field.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}  # uvicorn's ANSI copy of the message
)
_SECRET_KEY = re.compile(r"token|password|passwd|secret|api_?key|authorization", re.IGNORECASE)
# Every pattern runs in time linear in the text: a run of N word characters is scanned from
# its first character only (the `(?<!...)` guards), never once per position (quadratic).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # the secret part of an inbound URL: /inbound/<token>
    # (left alone when already masked, as the server's access log does with "…")
    (re.compile(r"(/inbound/)(?!…|\*\*\*)[^/\s?#\"'<>\\]+"), r"\g<1>" + MASK),
    # Authorization: Bearer <token> / Basic <creds>
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), r"\g<1>\g<2>" + MASK),
    # key=value, key: value, "key": "value" for secret-looking keys (a /path is where, not what)
    (
        re.compile(
            r"(?i)(?<![\w-])([\"']?[\w-]*(?:token|password|passwd|secret|api_?key)[\"']?\s*[:=]"
            r"\s*[\"']?)(?!/)[^\"'\s,&;}]+"
        ),
        r"\g<1>" + MASK,
    ),
    # credentials in a URL: scheme://user:password@host
    (re.compile(r"(?<!\w)(\w+://[^/\s:@]+:)[^/\s@]+@"), r"\g<1>" + MASK + "@"),
)
# The most of one message a handler writes (longer ones are cut, saying how much was left out).
MAX_MESSAGE_CHARS = 8192


def redact(text: str) -> str:
    """Mask tokens, passwords and secret inbound paths in a piece of log text."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def bound(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text`, or its first `limit` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _redact_value(key: str, value: object) -> object:
    if _SECRET_KEY.search(key):
        return MASK
    if isinstance(value, str):
        return redact(value)
    return value


class RedactFilter(logging.Filter):
    """Rewrites each record so no token or password reaches any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(bound(record.getMessage()))
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(
                    record,
                    key,
                    _redact_value(key, bound(value) if isinstance(value, str) else value),
                )
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record (event_id, button, target, ...)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message, context fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        safe = {key: _redact_value(key, value) for key, value in entry.items()}
        return json.dumps(safe, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """`time level logger: message key=value ...`, context fields appended."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = context_fields(record)
        if fields:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            head, sep, tail = line.partition("\n")
            line = f"{head} {extra}{sep}{tail}"
        return redact(line)


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--log-format plain|json` and `--log-level` to a (sub)command."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="plain",
        help="plain lines, or one JSON object per line (for journald)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="least severe level to log (default INFO)",
    )


def configure_logging(
    log_format: str = "plain", level: str | int = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Install one redacting handler on the root logger, replacing any earlier one."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return handler
