"""SIGHUP for `flic-bridge run`: which config changes apply live and which need a restart.

Live: the `[[button]]` table (names, on/off, info, health overrides), the `[health]`
thresholds and the `[[forward]]` targets (added, changed or removed). Everything else that
opened a socket, a file or a connection at startup (listen address, state_dir, token, bridge
name, sources, MQTT) keeps its running value until a restart; `restart_changes` names those
keys so the log can say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, replace

from bridge.config import Config
from bridge.core.health import HealthMonitor
from bridge.core.registry import ButtonRegistry
from bridge.core.targets import Targets
from bridge.errors import ConfigError
from edgecommon.sdnotify import Notifier

log = logging.getLogger(__name__)

RESTART_SECTIONS = ("bridge", "flicd", "ble", "hub", "mqtt")
_TOML_KEY = {("bridge", "host"): "listen", ("bridge", "port"): "listen"}


def restart_changes(old: Config, new: Config) -> list[str]:
    """The changed keys that take effect only after a restart, as `[table] key` (pure)."""
    found: list[str] = []
    for section in RESTART_SECTIONS:
        before, after = asdict(getattr(old, section)), asdict(getattr(new, section))
        for key, value in before.items():
            entry = f"[{section}] {_TOML_KEY.get((section, key), key)}"
            if after[key] != value and entry not in found:
                found.append(entry)
    if old.health.enabled != new.health.enabled:
        found.append("[health] enabled")
    old_types = {b.address: b.click_types for b in old.buttons}
    new_types = {b.address: b.click_types for b in new.buttons}
    if (old.flicd.enabled or old.ble.enabled) and old_types != new_types:
        found.append("[[button]] on/off: the click types flicd/BLE listen for")
    old_names = {b.address: b.name for b in old.buttons}
    if old.mqtt.enabled and old_names != {b.address: b.name for b in new.buttons}:
        found.append("[[button]] name: MQTT discovery and press topics")
    return found


def live_changes(old: Config, new: Config) -> list[str]:
    """The changed tables applied at once (pure)."""
    found: list[str] = []
    if old.buttons != new.buttons:
        found.append("[[button]]")
    if old.forward != new.forward:
        found.append("[[forward]]")
    if replace(old.health, enabled=True) != replace(new.health, enabled=True):
        found.append("[health]")
    return found


def in_force(old: Config, new: Config) -> Config:
    """The running config after a reload: `new`'s live parts on top of `old` (pure)."""
    return replace(
        old,
        buttons=new.buttons,
        forward=new.forward,
        health=replace(new.health, enabled=old.health.enabled),
    )


def reload_config(
    old: Config,
    reread: Callable[[], Config],
    *,
    targets: Targets,
    registry: ButtonRegistry,
    health: HealthMonitor,
    notifier: Notifier,
) -> Config | None:
    """Re-read the config of a running bridge and apply its live parts to the parts given.

    Returns the config now in force, or None (nothing changed) when the new one is invalid.
    """
    notifier.reloading()
    try:
        try:
            new = reread()
        except ConfigError as exc:
            log.error("config reload: %d problem(s), keeping the running config", len(exc.problems))
            for problem in exc.problems:
                log.error("config reload: %s", problem)
            return None
        restart, live = restart_changes(old, new), live_changes(old, new)
        retargeted = targets.retarget(old.forward, new.forward)
        current = in_force(old, new)
        registry.reconfigure(current.buttons)
        health.settings = current.health
        log.info("config reloaded: %s", ", ".join(live) if live else "no live changes")
        if retargeted:
            log.info("config reload: targets %s", ", ".join(retargeted))
        if restart:
            log.warning(
                "config reload: these changes take effect only after a restart: %s",
                ", ".join(restart),
            )
        return current
    finally:
        notifier.ready("running")
