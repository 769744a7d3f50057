"""The bridge's TOML config: validated once at the edge, every problem reported together.

`settings.py` holds the frozen values the rest of the bridge uses (re-exported here); the
`[[forward]]`, `[health]` and `[limits]` sections have modules of their own.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.config.forward import (
    ForwardIn,
    ForwardTarget,
    ReportSettings,
    check_url,
    first_url,
    forward_name,
)
from bridge.config.health import (
    ButtonHealthIn,
    HealthIn,
    HealthSettings,
    HealthThresholds,
    button_health,
    threshold_or_none,
)
from bridge.config.limits import LimitsIn
from bridge.config.settings import (
    DEFAULT_OFF,
    DEFAULT_ON,
    BleSettings,
    BridgeSettings,
    ButtonSpec,
    Config,
    FlicdSettings,
    HubSettings,
    Priority,
    default_button,
)
from bridge.errors import ConfigError
from bridge.models import ClickType
from bridge.mqtt.settings import MqttIn, MqttSettings, shared_mqtt_topics

__all__ = [
    "ENV_CONFIG",
    "SEARCH_PATHS",
    "BleSettings",
    "BridgeSettings",
    "ButtonSpec",
    "Config",
    "FlicdSettings",
    "HubSettings",
    "default_button",
    "find_config_path",
    "load_config",
    "parse_config",
]

ENV_CONFIG = "FLIC_BRIDGE_CONFIG"
# Where a config is looked for when neither --config nor the environment names one;
# `var/bridge.toml` is what `make run` writes, so commands run from the repo root find it.
SEARCH_PATHS = (Path("bridge.toml"), Path("var/bridge.toml"), Path("/etc/flic-bridge/bridge.toml"))
_ADDRESS = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


# --- the edge: pydantic models of the TOML file --------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _BridgeIn(_Section):
    name: str = Field(default="bridge-1", min_length=1)
    state_dir: str = "./var/bridge"
    listen: str = "127.0.0.1:8381"
    token: str | None = Field(default=None, min_length=8)
    report_url: str | None = None
    report_token: str | None = Field(default=None, min_length=1)
    report_every_s: float = Field(default=30.0, ge=1, le=3600)

    @field_validator("report_url")
    @classmethod
    def _report_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @model_validator(mode="after")
    def _report_token(self) -> _BridgeIn:
        if self.report_url is not None and self.report_token is None:
            raise ValueError("report_url needs report_token (the server's admin token)")
        return self

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        _split_listen(value)
        return value


class _FlicdIn(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=5551, ge=1, le=65535)


class _BleIn(_Section):
    enabled: bool = False
    adapter: str = "hci0"


class _HubIn(_Section):
    enabled: bool = True


class _ButtonIn(_Section):
    address: str
    name: str = Field(min_length=1)
    on: list[ClickType] = Field(default_factory=lambda: list(DEFAULT_ON))
    off: list[ClickType] = Field(default_factory=lambda: list(DEFAULT_OFF))
    info: str = ""
    health: ButtonHealthIn | None = None
    priority_on: dict[ClickType, Priority] = Field(default_factory=dict)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip().lower()
        if not _ADDRESS.match(value):
            raise ValueError("must look like 80:e4:da:71:23:45")
        return value


class _ConfigIn(_Section):
    bridge: _BridgeIn = Field(default_factory=_BridgeIn)
    forward: list[ForwardIn] = Field(default_factory=list)
    flicd: _FlicdIn = Field(default_factory=_FlicdIn)
    ble: _BleIn = Field(default_factory=_BleIn)
    hub: _HubIn = Field(default_factory=_HubIn)
    mqtt: MqttIn = Field(default_factory=MqttIn)
    button: list[_ButtonIn] = Field(default_factory=list)
    health: HealthIn = Field(default_factory=HealthIn)
    limits: LimitsIn = Field(default_factory=LimitsIn)


def _split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8381")
    return host.strip("[]") or "127.0.0.1", int(port)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def _cross_checks(data: Mapping[str, Any]) -> list[str]:
    """Problems between entries, found on the raw document so they join the pydantic ones."""
    problems: list[str] = []
    buttons = data.get("button", [])
    seen_addr: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    for i, button in enumerate(buttons if isinstance(buttons, list) else []):
        if not isinstance(button, Mapping):
            continue
        address, name = button.get("address"), button.get("name")
        if isinstance(address, str):
            address = address.strip().lower()
            if address in seen_addr:
                problems.append(
                    f"button[{i}].address: {address} is already button[{seen_addr[address]}]"
                )
            seen_addr.setdefault(address, i)
        if isinstance(name, str):
            if name in seen_name:
                problems.append(f"button[{i}].name: {name!r} is already button[{seen_name[name]}]")
            seen_name.setdefault(name, i)
        on, off = button.get("on", []), button.get("off", [])
        if isinstance(on, list) and isinstance(off, list):
            both = sorted({str(x) for x in on} & {str(x) for x in off})
            if both:
                problems.append(f"button[{i}]: {', '.join(both)} is in both `on` and `off`")
    problems += shared_mqtt_topics(data, buttons if isinstance(buttons, list) else [])
    forwards = data.get("forward", [])
    urls: dict[str, int] = {}
    for i, fwd in enumerate(forwards if isinstance(forwards, list) else []):
        first = first_url(fwd)
        if first is not None:
            key = str(fwd.get("name") or first)
            if key in urls:
                problems.append(f"forward[{i}]: same target as forward[{urls[key]}]")
            urls.setdefault(key, i)
    return problems


def parse_config(data: Mapping[str, Any], *, source_path: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    parsed: _ConfigIn | None = None
    try:
        parsed = _ConfigIn.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{_key_path(err['loc'])}: {_message(err['msg'], err['type'])}" for err in exc.errors()
        ]
    problems += _cross_checks(data)
    if problems or parsed is None:
        raise ConfigError(problems)
    host, port = _split_listen(parsed.bridge.listen)
    state_dir = Path(parsed.bridge.state_dir)  # relative paths are relative to the working dir
    return Config(
        bridge=BridgeSettings(
            name=parsed.bridge.name,
            state_dir=state_dir,
            host=host,
            port=port,
            token=parsed.bridge.token,
            report=None
            if parsed.bridge.report_url is None or parsed.bridge.report_token is None
            else ReportSettings(
                parsed.bridge.report_url, parsed.bridge.report_token, parsed.bridge.report_every_s
            ),
        ),
        forward=tuple(
            ForwardTarget(name=forward_name(f), urls=f.all_urls, timeout_s=f.timeout_s)
            for f in parsed.forward
        ),
        flicd=FlicdSettings(parsed.flicd.enabled, parsed.flicd.host, parsed.flicd.port),
        ble=BleSettings(parsed.ble.enabled, parsed.ble.adapter),
        hub=HubSettings(parsed.hub.enabled),
        mqtt=MqttSettings(
            enabled=parsed.mqtt.enabled,
            host=parsed.mqtt.host,
            port=parsed.mqtt.port,
            base_topic=parsed.mqtt.base_topic,
            discovery_prefix=parsed.mqtt.discovery_prefix,
            username=parsed.mqtt.username,
            password=parsed.mqtt.password,
            client_id=parsed.mqtt.client_id,
            protocol=parsed.mqtt.protocol,
            tls=parsed.mqtt.tls,
            ca_file=parsed.mqtt.ca_file,
            cert_file=parsed.mqtt.cert_file,
            key_file=parsed.mqtt.key_file,
            tls_insecure=parsed.mqtt.tls_insecure,
            keepalive_s=parsed.mqtt.keepalive_s,
            accept_press=parsed.mqtt.accept_press,
        ),
        buttons=tuple(
            ButtonSpec(
                address=b.address,
                name=b.name,
                on=frozenset(b.on),
                off=frozenset(b.off),
                info=b.info,
                health=button_health(b.health, parsed.health),
                priority_on=tuple(sorted(b.priority_on.items())),
            )
            for b in parsed.button
        ),
        source_path=source_path,
        raw=data,
        health=HealthSettings(
            enabled=parsed.health.enabled,
            defaults=HealthThresholds(
                threshold_or_none(parsed.health.battery_below),
                threshold_or_none(parsed.health.unseen_after_s),
            ),
            source_down_after_s=threshold_or_none(parsed.health.source_down_after_s),
            check_every_s=parsed.health.check_every_s,
        ),
        limits=parsed.limits.inside(),
    )


def _message(msg: str, kind: str) -> str:
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "enum":
        return msg.replace("Input should be", "must be one of")
    return msg.removeprefix("Value error, ")


def find_config_path(explicit: str | None) -> Path | None:
    """The config file to use: --config, then $FLIC_BRIDGE_CONFIG, then the search paths."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    for candidate in SEARCH_PATHS:
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None) -> Config:
    """Read and validate `path` (None: embedded defaults); ConfigError lists every problem."""
    if path is None:
        return parse_config({})
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    return parse_config(data, source_path=path)
