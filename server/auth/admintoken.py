"""The admin token: env `ALERT_SERVER_ADMIN_TOKEN`, else `<data dir>/admin-token` (mode 0600)."""

from __future__ import annotations

import secrets
from pathlib import Path

from edgecommon.secretfile import SecretFileError, kept_secret
from server.config import Config
from server.errors import AlertServerError

FILENAME = "admin-token"
# A generated token has 43 characters; a file holding fewer was cut short (a power cut
# before the data reached the disk leaves an empty file) and is made again, never trusted.
MIN_FILE_TOKEN_CHARS = 16


def admin_token_path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def resolve_admin_token(config: Config) -> str:
    """The configured token, or the one in the data dir, created (mode 0600) on first use."""
    if config.server.admin_token:
        return config.server.admin_token
    try:
        return kept_secret(
            admin_token_path(config.data_dir),
            lambda: secrets.token_urlsafe(32),
            min_chars=MIN_FILE_TOKEN_CHARS,
            what="admin token",
        )
    except SecretFileError as exc:
        raise AlertServerError(str(exc)) from exc
