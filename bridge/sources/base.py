"""The seam every click source implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from bridge.models import SourceEvent


class ClickSource(Protocol):
    """A dumb source: connect, yield events until the connection ends, then raise.

    It knows nothing of retries; the supervisor calls `events()` again with backoff.
    Ending the iterator normally means the source was stopped on purpose.
    """

    name: str

    def events(self) -> AsyncIterator[SourceEvent]: ...
