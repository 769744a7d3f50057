"""`[mqtt]` of the server config: the broker the server publishes alert changes to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CLIENT_ID = "alert-server"  # on a shared database each server adds host and port


class MqttSection(BaseModel):
    """Off by default; `enabled = true` publishes `{base_topic}/alerts/...` (see README)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    base_topic: str = Field(default="flic", min_length=1, pattern=r"^[^+#]+$")
    client_id: str = Field(default=DEFAULT_CLIENT_ID, min_length=1)
    username: str | None = None
    password: str | None = None
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = Field(default=30, ge=5, le=3600)
