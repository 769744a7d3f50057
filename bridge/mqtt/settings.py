"""The `[mqtt]` table: as written in the TOML file, and as the running bridge uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.mqtt.topics import segment, shared_topics


@dataclass(frozen=True, slots=True)
class MqttSettings:
    enabled: bool
    host: str
    port: int
    base_topic: str
    discovery_prefix: str
    username: str | None
    password: str | None
    client_id: str = ""  # "" means flic-bridge-<bridge name>
    protocol: str = "3.1.1"
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    accept_press: bool = False


class MqttIn(BaseModel):
    """The `[mqtt]` table as written (checked by bridge.config with the rest of the file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    base_topic: str = Field(default="flic", min_length=1, pattern=r"^[^+#\x00-\x1f\x7f-\x9f]+$")
    discovery_prefix: str = Field(default="homeassistant", pattern=r"^[^+#]*$")
    username: str | None = None
    password: str | None = None
    client_id: str = ""
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_insecure: bool = False
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    accept_press: bool = False


def shared_mqtt_topics(data: Mapping[str, Any], buttons: list[Any]) -> list[str]:
    """Buttons whose names become one MQTT topic level (`lobby/door`, `lobby_door`)."""
    mqtt = data.get("mqtt")
    if not isinstance(mqtt, Mapping) or mqtt.get("enabled") is not True:
        return []
    names = [b.get("name") if isinstance(b, Mapping) else None for b in buttons]
    index = [i for i, n in enumerate(names) if isinstance(n, str)]
    base = mqtt.get("base_topic", "flic")
    return [
        f"button[{index[j]}].name: {names[index[j]]!r} and button[{index[i]}].name"
        f" {names[index[i]]!r} share the MQTT topic {base}/{segment(str(names[index[i]]))}:"
        " rename one"
        for i, j in shared_topics([str(names[k]) for k in index])
    ]
