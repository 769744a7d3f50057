"""The bridge token kept in `state_dir/token`: made once, written durably, never empty."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bridge.config import Config
from bridge.errors import BridgeError

log = logging.getLogger(__name__)

# A generated token has 32 characters; a file holding fewer than this was cut short (a power
# cut before the data reached the disk leaves an empty file) and is made again.
MIN_FILE_TOKEN_CHARS = 16


def bridge_token(config: Config) -> str:
    """The configured token, or the one kept in `state_dir/token` (created on first use)."""
    if config.bridge.token:
        return config.bridge.token
    path = config.bridge.state_dir / "token"
    kept = _read(path)
    if kept is not None and len(kept) >= MIN_FILE_TOKEN_CHARS:
        return kept
    token = secrets.token_urlsafe(24)
    if kept is None:
        if _write(path, token, replace=False):
            return token
        return bridge_token(config)  # another process made it first: use theirs
    log.warning(
        "bridge token file %s held %d character(s), fewer than %d (cut short by a power cut?):"
        " made a new token there; hub modules and scripts need the new one",
        path,
        len(kept),
        MIN_FILE_TOKEN_CHARS,
    )
    _write(path, token, replace=True)
    return token


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BridgeError(f"cannot read the bridge token file {path}: {exc}") from exc


def _write(path: Path, token: str, *, replace: bool) -> bool:
    """Write `token` to `path` (mode 0600) and make it durable; False if `path` appeared."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(token + "\n")
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # never overwrites a token another process just made
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
        raise BridgeError(f"cannot write the bridge token file {path}: {exc}") from exc
    return True
