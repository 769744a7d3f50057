"""`python -m tests.support.clocked_server ARGS`: the real `alert-server` whose escalation clock
is an instant in the file named by $CLOCKED_SERVER_CLOCK_FILE, so a test moves escalation time
forward (steps, retries, links, ack timeouts) instead of waiting. Everything else keeps the
system clock, and so does escalation while the variable is empty. The clock is injected through
`server.cli.main(argv, escalation_clock=...)`."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from server import cli

CLOCK_FILE_ENV = "CLOCKED_SERVER_CLOCK_FILE"


class FileClock:
    """The instant written in a file (ISO 8601), or the real time while the file is missing."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __call__(self) -> datetime:
        """The instant in the file, or the real time."""
        try:
            text = self._path.read_text().strip()
        except FileNotFoundError:
            return datetime.now(UTC)
        return datetime.fromisoformat(text).astimezone(UTC)


def main(argv: list[str]) -> int:
    """Run the server's command line with the file clock from the environment (if it is set)."""
    path = os.environ.get(CLOCK_FILE_ENV, "")
    return cli.main(argv, escalation_clock=FileClock(Path(path)) if path else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
