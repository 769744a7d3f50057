"""The admin token: env `ALERT_SERVER_ADMIN_TOKEN`, else `<data dir>/admin-token` (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from server.config import Config
from server.errors import AlertServerError

FILENAME = "admin-token"


def admin_token_path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def resolve_admin_token(config: Config) -> str:
    """The configured token, or the one in the data dir, created (mode 0600) on first use."""
    if config.server.admin_token:
        return config.server.admin_token
    path = admin_token_path(config.data_dir)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise AlertServerError(f"cannot read the admin token {path}: {exc.strerror}") from exc
    token = secrets.token_urlsafe(32)
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AlertServerError(f"cannot create the admin token {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    return token
