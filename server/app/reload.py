"""SIGHUP: re-read the config file and the environment, apply what is safe live, name the rest.

An invalid config changes nothing: every problem is logged at ERROR and the old config stays.
A valid one is applied live except for the keys in `RESTART_KEYS` (and all of `[mqtt]`): those
keep their running values and are named in one WARNING. Plugins that hold settings of their
own append a hook to `ctx.reload_hooks`; it gets the config now in force.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from edgecommon.sdnotify import Notifier
from server.config import Config, ServerSection
from server.context import AppContext
from server.errors import ConfigError

log = logging.getLogger("server.reload")

# Keys read once at startup (sockets, files, the database, tokens, background tasks).
RESTART_KEYS = frozenset(
    {
        ("server", "host"),
        ("server", "port"),
        ("server", "data_dir"),
        ("server", "admin_token"),
        ("server", "tls_cert"),  # uvicorn loads the pair once, at start
        ("server", "tls_key"),
        ("server", "inbound_retention_days"),
        ("escalation", "link_secret"),
    }
)
RESTART_SECTIONS = frozenset({"mqtt"})  # the broker connection is made once


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump()


def _sections(config: Config) -> dict[str, dict[str, Any]]:
    found = {"server": _dump(config.server)}
    found.update({name: _dump(model) for name, model in config.sections.items()})
    return found


def changed_keys(old: Config, new: Config) -> list[tuple[str, str]]:
    """Every (section, key) whose value differs, in a stable order."""
    before, after = _sections(old), _sections(new)
    keys: list[tuple[str, str]] = []
    for section in sorted(set(before) | set(after)):
        a, b = before.get(section, {}), after.get(section, {})
        keys.extend((section, k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
    return keys


def needs_restart(section: str, key: str) -> bool:
    return section in RESTART_SECTIONS or (section, key) in RESTART_KEYS


def in_force(old: Config, new: Config) -> Config:
    """`new`, with every restart-only key kept at its running value (pure)."""
    before, after = _sections(old), _sections(new)
    merged: dict[str, dict[str, Any]] = {}
    for section, values in after.items():
        kept = dict(values)
        for key in values:
            if needs_restart(section, key) and key in before.get(section, {}):
                kept[key] = before[section][key]
        merged[section] = kept
    server = ServerSection.model_validate(merged.pop("server"))
    sections = {
        name: type(new.sections[name]).model_validate(values) for name, values in merged.items()
    }
    for name in RESTART_SECTIONS & set(old.sections):
        sections[name] = old.sections[name]
    return replace(new, server=server, sections=sections)


class Reloader:
    """Reloads one app's config; `load()` reads the file and env as at startup."""

    def __init__(self, app: FastAPI, load: Callable[[], Config], notifier: Notifier) -> None:
        self._app = app
        self._load = load
        self._notifier = notifier

    def reload(self) -> bool:
        """Re-read and apply; False (and nothing changed) when the new config is invalid."""
        ctx: AppContext = self._app.state.ctx
        mono_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._notifier.notify("RELOADING=1", f"MONOTONIC_USEC={mono_usec}")
        try:
            return self._reload(ctx)
        finally:
            self._notifier.ready("running")

    def _reload(self, ctx: AppContext) -> bool:
        try:
            new = self._load()
        except ConfigError as exc:
            log.error("config reload: %d problem(s), keeping the running config", len(exc.problems))
            for problem in exc.problems:
                log.error("config reload: %s", problem)
            return False
        old = ctx.config
        changed = changed_keys(old, new)
        restart = [f"[{s}] {k}" for s, k in changed if needs_restart(s, k)]
        live = [f"[{s}] {k}" for s, k in changed if not needs_restart(s, k)]
        config = in_force(old, new)
        ctx.config = config
        logging.getLogger().setLevel(config.server.log_level)
        ctx.limiter.rate_per_s = config.server.inbound_rate_per_s
        ctx.limiter.burst = config.server.inbound_burst
        for hook in ctx.reload_hooks:
            hook(config)
        log.info("config reloaded: %s", ", ".join(live) if live else "no live changes")
        if restart:
            log.warning(
                "config reload: these changes take effect only after a restart: %s",
                ", ".join(restart),
            )
        return True
