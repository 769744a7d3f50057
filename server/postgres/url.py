"""`[database] url`: empty means SQLite in the data dir; `postgresql://...` means PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from server.errors import ConfigError

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed PostgreSQL URL; `text` is the URL as given (with its password: never log it)."""

    text: str = field(repr=False)
    hosts: tuple[str, ...]  # "host:port", several for a multi-host URL (Patroni, failover)
    database: str
    user: str | None
    password: str | None = field(repr=False)

    @property
    def where(self) -> str:
        """Where it points, for messages: `host:port/database` (no user, no password)."""
        return f"{','.join(self.hosts)}/{self.database}"

    def redacted(self) -> str:
        """The URL with the password replaced by `***`."""
        user = self.user or ""
        secret = ":***" if self.password else ""
        at = "@" if user or secret else ""
        return f"postgresql://{user}{secret}{at}{self.where}"

    def scrub(self, text: str) -> str:
        """`text` with the password taken out (driver messages may quote the URL)."""
        if self.password:
            text = text.replace(self.password, "***")
        return text


def parse_database_url(text: str | None) -> DatabaseUrl | None:
    """None for an empty URL (SQLite); ConfigError naming the problem for a bad one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ConfigError([f"database.url: not a URL ({exc})"]) from exc
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            [
                f"database.url: scheme {parts.scheme or '(none)'!r} is not supported: use"
                " postgresql://user:password@host:5432/dbname, or leave it empty for SQLite"
            ]
        )
    netloc = parts.netloc.rpartition("@")[2]
    if not netloc:
        raise ConfigError(["database.url: no host (postgresql://user:password@HOST:5432/db)"])
    hosts = tuple(_host(h) for h in netloc.split(","))
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(["database.url: no database name (postgresql://...@host:5432/DBNAME)"])
    return DatabaseUrl(
        text=text,
        hosts=hosts,
        database=database,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _host(text: str) -> str:
    """`host:port` of one host of the URL (5432 when it names none, as libpq does)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "5432")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError([f"database.url: not a URL (bad host:port {text!r})"])
    return f"{host}:{port}"
