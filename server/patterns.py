"""Admin-written regexes, compiled with RE2: matching takes time linear in the text.

Python's `re` backtracks, so a pattern like `^(a+)+$` on a long run of `a`s followed by `!`
takes time doubling per character, on the event loop. RE2 never backtracks; the price is
that it refuses backreferences (`\\1`) and lookaround (`(?=`, `(?<!`), which it names.
"""

from __future__ import annotations

from typing import Protocol

import re2

ENGINE = "re2"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the refusal is raised (and logged by the caller) instead


class Match(Protocol):
    def group(self, index: int = 0) -> str: ...


class Pattern(Protocol):
    """The part of a compiled pattern the mapping engine uses."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str) -> Match | None: ...


class PatternError(ValueError):
    """RE2 refuses the pattern (bad syntax, or a feature that needs backtracking)."""


def compile_pattern(pattern: str) -> Pattern:
    """Compile `pattern` with RE2; raises PatternError naming the pattern and the reason."""
    try:
        compiled: Pattern = re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "refused"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"invalid regex {pattern!r}: {reason} (patterns use RE2 syntax, matched in linear "
            "time: no backreferences or lookaround)"
        ) from exc
    return compiled
