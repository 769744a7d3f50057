"""Server settings: an optional TOML file plus `ALERT_SERVER_<SECTION>_<KEY>` environment overrides.

Precedence, lowest first: model defaults, the TOML file, the environment, command-line flags
(`Config.with_server(...)`). Every problem in every section is reported together in one
`ConfigError`.

Adding a section (e.g. `[smtp]`):
1. Define a pydantic model with a default for every field, `model_config = SECTION_MODEL_CONFIG`.
2. Register it in `SECTION_MODELS` (`"smtp": SmtpSection`).
3. Read it with `config.section("smtp", SmtpSection)`; env `ALERT_SERVER_SMTP_HOST` sets `host`.
A TOML table whose name is not registered is an error (a typo must not pass silently).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from edgecommon.httplimits import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    KEEP_ALIVE_S,
    MAX_CONNECTIONS,
    HttpLimits,
)
from server.errors import ConfigError
from server.mqtt.config import MqttSection
from server.reports.timezone import check_zone

ENV_PREFIX = "ALERT_SERVER_"
ENV_CONFIG = "ALERT_SERVER_CONFIG"
DEFAULT_DATA_DIR = "./var/server"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

SECTION_MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True)

# Environment names the contract fixes outside the `<SECTION>_<KEY>` pattern.
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "ALERT_SERVER_DATA_DIR": ("server", "data_dir"),
    "ALERT_SERVER_ADMIN_TOKEN": ("server", "admin_token"),
    "ALERT_SERVER_HOST": ("server", "host"),
    "ALERT_SERVER_PORT": ("server", "port"),
    "ALERT_SERVER_SMTP_FROM": ("smtp", "from_addr"),  # `from` is a Python keyword
}


class ServerSection(BaseModel):
    """`[server]`: listening address, data dir, admin token and inbound limits."""

    model_config = SECTION_MODEL_CONFIG

    host: str = "127.0.0.1"
    port: int = Field(default=8380, ge=0, le=65535)
    data_dir: str = DEFAULT_DATA_DIR
    admin_token: str | None = Field(default=None, min_length=16)
    public_url: str | None = None
    tls_cert: str | None = None  # PEM certificate (chain): `run` serves HTTPS when set
    tls_key: str | None = None  # its PEM private key; both or neither
    log_level: str = "INFO"
    inbound_max_body_bytes: int = Field(default=64 * 1024, ge=1, le=16 * 1024 * 1024)
    # every other body (admin API, console forms); an unauthenticated admin call is never read
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    inbound_rate_per_s: float = Field(default=10.0, gt=0)
    inbound_burst: int = Field(default=120, ge=1)
    inbound_retention_days: float = Field(default=90.0, ge=0)  # 0 keeps the log forever
    # Slow clients (README "Security"): a request's headers, then its body, within these.
    header_timeout_s: float = Field(default=HEADER_TIMEOUT_S, gt=0, le=3600)
    body_timeout_s: float = Field(default=BODY_TIMEOUT_S, gt=0, le=3600)
    keep_alive_s: float = Field(default=KEEP_ALIVE_S, gt=0, le=3600)
    max_connections: int = Field(default=MAX_CONNECTIONS, ge=1, le=100_000)
    response_target_s: float = Field(default=180.0, gt=0)  # reports: acknowledged within this
    timezone: str = ""  # reports' hours and days: an IANA name; empty = the machine's, else UTC
    bridge_silent_after_s: float = Field(default=120.0, gt=0)  # no report: `bridge:<name>` alert

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    def http_limits(self) -> HttpLimits:
        """The read deadlines and connection cap `run` gives uvicorn."""
        return HttpLimits(
            self.header_timeout_s, self.body_timeout_s, self.keep_alive_s, self.max_connections
        )

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSection:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class SmtpSection(BaseModel):
    """`[smtp]`: where pages by email are handed over (env `ALERT_SERVER_SMTP_HOST`, ...)."""

    model_config = SECTION_MODEL_CONFIG

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    from_addr: str = Field(
        default="alert-server@localhost", validation_alias=AliasChoices("from", "from_addr")
    )
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout_s: float = Field(default=15.0, gt=0)


class EscalationSection(BaseModel):
    """`[escalation]`: scheduler pace, delivery retries, throttling and link lifetime."""

    model_config = SECTION_MODEL_CONFIG

    tick_s: float = Field(default=1.0, gt=0, le=60)
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=600.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    throttle_max: int = Field(default=5, ge=1)
    throttle_window_s: float = Field(default=600.0, gt=0)
    link_ttl_s: float = Field(default=7 * 86400.0, gt=0)
    link_secret: str | None = Field(default=None, min_length=16)
    send_timeout_s: float = Field(default=60.0, gt=0)


class DatabaseSection(BaseModel):
    """`[database]`: empty `url` keeps SQLite in the data dir; `postgresql://...` shares one.

    `ALERT_SERVER_DATABASE_URL` sets it from the environment (systemd's `EnvironmentFile`).
    """

    model_config = SECTION_MODEL_CONFIG

    url: str = Field(default="", repr=False)  # may hold a password: never in a repr or log
    pool_size: int = Field(default=8, ge=2, le=100)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "use postgresql://user:password@host:5432/dbname, or leave it empty for SQLite"
            )
        return value


T = TypeVar("T", bound=BaseModel)

SECTION_MODELS: Mapping[str, type[BaseModel]] = {
    "server": ServerSection,
    "smtp": SmtpSection,
    "escalation": EscalationSection,
    "mqtt": MqttSection,
    "database": DatabaseSection,
}


@dataclass(frozen=True, slots=True)
class Config:
    """Validated settings; `server` is typed, other sections come through `section()`."""

    server: ServerSection = field(default_factory=ServerSection)
    sections: Mapping[str, BaseModel] = field(default_factory=dict)
    source: Path | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    def section(self, name: str, model: type[T]) -> T:
        """The validated `[name]` section (defaults when the file has none)."""
        if name == "server":
            value: BaseModel = self.server
        else:
            value = self.sections.get(name) or model()
        if not isinstance(value, model):
            raise TypeError(f"section [{name}] is a {type(value).__name__}, not {model.__name__}")
        return value

    def with_server(self, **changes: Any) -> Config:
        """A copy with `[server]` keys replaced (command-line flags); None values are skipped."""
        kept = {k: v for k, v in changes.items() if v is not None}
        if not kept:
            return self
        merged = {**self.server.model_dump(), **kept}
        try:
            server = ServerSection.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_problems("server", exc)) from exc
        return replace(self, server=server)


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    models: Mapping[str, type[BaseModel]] = SECTION_MODELS,
) -> Config:
    """Load the TOML file (`path`, else env `ALERT_SERVER_CONFIG`, else none) and the env."""
    env = os.environ if env is None else env
    problems: list[str] = []
    raw: dict[str, dict[str, Any]] = {}
    chosen = path if path is not None else env.get(ENV_CONFIG) or None
    source = Path(chosen) if chosen else None
    if source is not None:
        raw = _read_toml(source, problems)
    for name in raw:
        if name not in models:
            problems.append(f"[{name}]: unknown section (known: {', '.join(sorted(models))})")
    _apply_env(raw, env, models)
    validated: dict[str, BaseModel] = {}
    for name, model in models.items():
        try:
            validated[name] = model.model_validate(raw.get(name, {}))
        except ValidationError as exc:
            problems.extend(_problems(name, exc))
    if problems:
        raise ConfigError(problems)
    server = validated.pop("server")
    assert isinstance(server, ServerSection)
    return Config(server=server, sections=validated, source=source)


def _read_toml(path: Path, problems: list[str]) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path}: cannot read ({exc.strerror or exc})")
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid TOML ({exc})")
        return {}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            tables[key] = dict(value)
        else:
            problems.append(f"{path}: top-level key {key!r} must be inside a [section]")
    return tables


def _apply_env(
    raw: dict[str, dict[str, Any]], env: Mapping[str, str], models: Mapping[str, type[BaseModel]]
) -> None:
    # Longest section name first so `ALERT_SERVER_SMTP_TLS_HOST` can never be split wrongly.
    names = sorted(models, key=len, reverse=True)
    for var, value in env.items():
        if not var.startswith(ENV_PREFIX) or var == ENV_CONFIG or value == "":
            continue  # an empty variable counts as unset
        target = ENV_ALIASES.get(var)
        if target is None:
            rest = var[len(ENV_PREFIX) :].lower()
            for name in names:
                if rest.startswith(name + "_"):
                    target = (name, rest[len(name) + 1 :])
                    break
        if target is None:
            continue
        section, key = target
        if key in models[section].model_fields:
            raw.setdefault(section, {})[key] = value


def _problems(section: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        out.append(f"[{section}] {where}: {err['msg']}")
    return out
