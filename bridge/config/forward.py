"""Where the bridge posts: `[[forward]]` targets (`url`, or `urls` tried in order) and reports."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ForwardTarget:
    name: str  # the outbox target key: stable across runs
    urls: tuple[str, ...]  # one target: the first that answers takes the click
    timeout_s: float

    @property
    def url(self) -> str:
        """The first (preferred) URL."""
        return self.urls[0]


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """`[bridge] report_url`: post the bridge's health to an alert server every `every_s`."""

    url: str
    token: str = field(repr=False)
    every_s: float


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


class ForwardIn(_Section):
    url: str | None = None
    # Failover: one target, tried in order (several alert-servers on one database).
    urls: list[str] | None = Field(default=None, min_length=1, max_length=10)
    name: str | None = Field(default=None, min_length=1)
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for url in value:
            check_url(url)
        if len(set(value)) != len(value):
            raise ValueError("lists one URL twice")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> ForwardIn:
        if (self.url is None) == (self.urls is None):
            raise ValueError("give either `url` or `urls` (a list tried in order), not both")
        return self

    @property
    def all_urls(self) -> tuple[str, ...]:
        return (self.url,) if self.url is not None else tuple(self.urls or ())


def first_url(fwd: Any) -> str | None:
    """The first URL of a raw `[[forward]]` table: it names the target."""
    if not isinstance(fwd, Mapping):
        return None
    urls = fwd.get("urls")
    if isinstance(urls, list) and urls and isinstance(urls[0], str):
        return urls[0]
    url = fwd.get("url")
    return url if isinstance(url, str) else None


def forward_name(fwd: ForwardIn) -> str:
    """The outbox key; from the first URL, so `url = X` turned into `urls = [X, Y]` keeps it."""
    if fwd.name:
        return fwd.name
    first = fwd.all_urls[0]
    digest = hashlib.sha256(first.encode()).hexdigest()[:8]
    return f"{urlsplit(first).netloc}-{digest}"
