"""What escalation's routes and the board share with its plugin: the runtime and link signing.

The routes import this module, `plugin` imports the routes and this module, so no cycle.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from fastapi import Request

from server.config import Config, EscalationSection
from server.escalation.paging import Clock
from server.escalation.scheduler import Scheduler
from server.escalation.state_store import EscalationStore

LINK_SECRET_FILE = "link-secret"


@dataclass(frozen=True, slots=True)
class EscalationRuntime:
    """What the people and link routes need: the store, the scheduler and link signing."""

    store: EscalationStore
    scheduler: Scheduler
    clock: Clock
    link_secret: bytes
    public_base_url: str


def public_base_url(config: Config) -> str:
    """`[server] public_url`, else the address the server listens on."""
    if config.server.public_url:
        return config.server.public_url.rstrip("/")
    host = config.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{config.server.port}"


def link_secret(config: Config, section: EscalationSection) -> bytes:
    """The key that signs links: from config, else a file in the data dir made on first start."""
    if section.link_secret:
        return section.link_secret.encode()
    path = config.data_dir / LINK_SECRET_FILE
    if not path.exists():
        config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def runtime(request: Request) -> EscalationRuntime:
    """The app's escalation runtime (FastAPI dependency)."""
    found: EscalationRuntime = request.app.state.escalation
    return found
