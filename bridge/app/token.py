"""The bridge token kept in `state_dir/token`: made once, written durably, never empty."""

from __future__ import annotations

import secrets

from bridge.config import Config
from bridge.errors import BridgeError
from edgecommon.secretfile import SecretFileError, kept_secret

# A generated token has 32 characters; a file holding fewer than this was cut short (a power
# cut before the data reached the disk leaves an empty file) and is made again.
MIN_FILE_TOKEN_CHARS = 16


def bridge_token(config: Config) -> str:
    """The configured token, or the one kept in `state_dir/token` (created on first use)."""
    if config.bridge.token:
        return config.bridge.token
    path = config.bridge.state_dir / "token"
    try:
        return kept_secret(
            path,
            lambda: secrets.token_urlsafe(24),
            min_chars=MIN_FILE_TOKEN_CHARS,
            what="bridge token",
        )
    except SecretFileError as exc:
        raise BridgeError(str(exc)) from exc
