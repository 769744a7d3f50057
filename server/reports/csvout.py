"""Report rows as CSV (the same columns as the JSON items)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import astuple, fields

from server.reports.queries import ResponseRow

COLUMNS = tuple(f.name for f in fields(ResponseRow))


def rows_csv(rows: Sequence[ResponseRow]) -> str:
    """A header line, then one line per group; empty cells where there is no value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow("" if v is None else v for v in astuple(row))
    return out.getvalue()
