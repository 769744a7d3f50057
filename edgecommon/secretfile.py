"""A generated secret kept in a file (mode 0600): written durably, never trusted short or empty.

A power cut between writing a file and its data reaching the disk leaves an empty file; a
secret read back empty would let anyone in. So the file is written to a temporary name,
fsynced, linked or renamed into place and the directory fsynced; and a value shorter than
`min_chars` is treated as cut short and made again (with a warning naming the file).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class SecretFileError(Exception):
    """The file could not be read or written; the message names it and the reason."""


def kept_secret(path: Path, make: Callable[[], str], *, min_chars: int, what: str) -> str:
    """The secret in `path`, made with `make()` when missing, empty or shorter than `min_chars`."""
    kept = read_secret(path, what)
    if kept is not None and len(kept) >= min_chars:
        return kept
    fresh = make()
    if kept is None:
        if write_secret(path, fresh, what, replace=False):
            return fresh
        return kept_secret(path, make, min_chars=min_chars, what=what)  # another process won
    log.warning(
        "%s file %s held %d character(s), fewer than %d (cut short by a power cut?):"
        " made a new %s there; whatever used the old one needs the new one",
        what,
        path,
        len(kept),
        min_chars,
        what,
    )
    write_secret(path, fresh, what, replace=True)
    return fresh


def read_secret(path: Path, what: str) -> str | None:
    """The stripped contents of `path`, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read the {what} file {path}: {exc}") from exc


def write_secret(path: Path, value: str, what: str, *, replace: bool) -> bool:
    """Write `value` to `path` (0600) durably; False if `path` appeared and `replace` is off."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(value + "\n")
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # never overwrites one another process just made
                except FileExistsError:
                    return False
        finally:
            tmp.unlink(missing_ok=True)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new name itself survives a power cut
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise SecretFileError(f"cannot write the {what} file {path}: {exc}") from exc
    return True
