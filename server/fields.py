"""Field types shared by the HTTP bodies."""

from typing import Annotated

from fastapi import Path
from pydantic import Field

# A reference to a row: SQLite integers are 64-bit, so a larger number is a 422, not a crash.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# The same bound for an id in a URL path.
RowIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
