"""What escalation's routes and the board share with its plugin: the runtime and link signing.

The routes import this module, `plugin` imports the routes and this module, so no cycle.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import Request

from edgecommon.secretfile import SecretFileError, kept_secret
from server.config import Config, EscalationSection
from server.context import get_ctx
from server.errors import AlertServerError
from server.escalation.paging import Clock
from server.escalation.scheduler import Scheduler
from server.escalation.state_store import EscalationStore
from server.notify.base import Channel

LINK_SECRET_FILE = "link-secret"
MIN_LINK_SECRET_CHARS = 16  # as `[escalation] link_secret`; a generated one has 64


@dataclass(frozen=True, slots=True)
class EscalationRuntime:
    """What the people and link routes need: the store, the scheduler and link signing."""

    store: EscalationStore
    scheduler: Scheduler
    clock: Clock
    link_secret: bytes
    public_base_url: str
    channels: Mapping[str, Channel] = field(default_factory=dict)
    send_timeout_s: float = 30.0


def public_base_url(config: Config) -> str:
    """`[server] public_url`, else the address the server listens on."""
    if config.server.public_url:
        return config.server.public_url.rstrip("/")
    host = config.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{config.server.port}"


def link_secret(config: Config, section: EscalationSection) -> bytes:
    """The key that signs links: from config, else a file in the data dir made on first start.

    A file cut short (empty after a power cut) is made again: links signed with the old key
    stop working, and none can be forged with an empty one.
    """
    if section.link_secret:
        return section.link_secret.encode()
    try:
        kept = kept_secret(
            config.data_dir / LINK_SECRET_FILE,
            lambda: secrets.token_hex(32),
            min_chars=MIN_LINK_SECRET_CHARS,
            what="link secret",
        )
    except SecretFileError as exc:
        raise AlertServerError(str(exc)) from exc
    return kept.encode()


def runtime(request: Request) -> EscalationRuntime:
    """The app's escalation runtime (FastAPI dependency)."""
    return get_ctx(request).part(EscalationRuntime)
