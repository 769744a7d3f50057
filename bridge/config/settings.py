"""The bridge's config as the rest of the bridge sees it: frozen values, checked already."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridge.config.forward import ForwardTarget, ReportSettings
from bridge.config.health import HealthSettings, HealthThresholds
from bridge.config.limits import Limits
from bridge.models import ClickType
from bridge.mqtt.settings import MqttSettings

# The alert priorities a button may ask for, as the alert server names them.
Priority = Literal["urgent", "high", "normal", "low"]
DEFAULT_ON = (ClickType.SINGLE, ClickType.HOLD)
DEFAULT_OFF = (ClickType.DOUBLE,)


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    name: str
    state_dir: Path
    host: str
    port: int
    token: str | None  # None: the runtime keeps a generated token in state_dir/token
    report: ReportSettings | None = None  # None: the bridge does not report to a server


@dataclass(frozen=True, slots=True)
class FlicdSettings:
    enabled: bool
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class BleSettings:
    enabled: bool
    adapter: str


@dataclass(frozen=True, slots=True)
class HubSettings:
    enabled: bool


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """One button's name and click-type mapping (configured, or the default for strangers)."""

    address: str
    name: str
    on: frozenset[ClickType]
    off: frozenset[ClickType]
    info: str
    configured: bool = True
    health: HealthThresholds | None = None  # None: the `[health]` defaults
    # Click type -> the alert priority the webhook asks for (`priority_on = {hold = "urgent"}`).
    priority_on: tuple[tuple[ClickType, Priority], ...] = ()

    @property
    def click_types(self) -> frozenset[ClickType]:
        """Every click type this button forwards."""
        return self.on | self.off


def default_button(address: str, name: str | None = None) -> ButtonSpec:
    """The mapping for a button nobody configured: single/hold On, double Off."""
    return ButtonSpec(
        address=address,
        name=name or address,
        on=frozenset(DEFAULT_ON),
        off=frozenset(DEFAULT_OFF),
        info="",
        configured=False,
    )


@dataclass(frozen=True, slots=True)
class Config:
    bridge: BridgeSettings
    forward: tuple[ForwardTarget, ...]
    flicd: FlicdSettings
    ble: BleSettings
    hub: HubSettings
    mqtt: MqttSettings
    buttons: tuple[ButtonSpec, ...]
    source_path: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    health: HealthSettings = field(default_factory=HealthSettings)
    limits: Limits = field(default_factory=Limits)

    @property
    def listen_url(self) -> str:
        """The base URL of the bridge's HTTP server."""
        host = "127.0.0.1" if self.bridge.host in ("0.0.0.0", "::", "") else self.bridge.host
        return f"http://{host}:{self.bridge.port}"
