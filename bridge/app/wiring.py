"""Builds the MQTT parts of a bridge from its config and plugs them into the runtime."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bridge import __version__
from bridge.config import ButtonSpec, Config
from bridge.core.pipeline import heard_click_types
from bridge.models import ButtonSeen, ClickType
from bridge.mqtt.discovery import DiscoveryButton
from bridge.mqtt.link import BrokerSettings
from bridge.mqtt.topics import segment
from bridge.sinks.mqtt import MqttSink
from bridge.sources.mqtt_press import MqttPressInput

if TYPE_CHECKING:
    from bridge.app.runtime import Runtime

log = logging.getLogger(__name__)


def broker_settings(config: Config) -> BrokerSettings:
    m = config.mqtt
    return BrokerSettings(
        host=m.host,
        port=m.port,
        base_topic=m.base_topic,
        discovery_prefix=m.discovery_prefix,
        client_id=m.client_id,
        username=m.username or None,
        password=m.password,
        protocol=m.protocol,
        tls=m.tls,
        ca_file=m.ca_file or None,  # "" in the file means "not set"
        cert_file=m.cert_file or None,
        key_file=m.key_file or None,
        tls_insecure=m.tls_insecure,
        keepalive_s=m.keepalive_s,
        accept_press=m.accept_press,
    )


def discovery_button(spec: ButtonSpec) -> DiscoveryButton:
    """A configured button for discovery: every click type it makes, mapped or not, in the
    enum's order (so Home Assistant can use a hold the webhook mapping leaves out)."""
    heard = heard_click_types(spec)
    clicks = tuple(c.value for c in ClickType if c in heard)
    return DiscoveryButton(address=spec.address, name=spec.name, click_types=clicks)


def mqtt_sink(config: Config) -> MqttSink:
    """The MQTT outbox target (`name` "mqtt") for an `[mqtt] enabled` config."""
    return MqttSink(
        broker_settings(config),
        bridge_name=config.bridge.name,
        buttons=[discovery_button(b) for b in config.buttons],
        sw_version=__version__,
    )


def attach(runtime: Runtime) -> None:
    """Battery/connection news to the retained button state; the optional press topic."""
    sink = next((s for s in runtime.sinks if isinstance(s, MqttSink)), None)
    if sink is None:
        return

    def on_seen(news: ButtonSeen) -> None:
        sink.observe(runtime.registry.resolve(news.address).name, news)

    runtime.seen_listeners.append(on_seen)
    if runtime.config.mqtt.accept_press:
        by_segment = {segment(b.name): b.address for b in runtime.config.buttons}

        def resolve(level: str) -> str | None:
            return by_segment.get(level)

        MqttPressInput(
            sink.link,
            base_topic=sink.base,
            resolve=resolve,
            accept=runtime.accept,
            clock=runtime.clock,
        )
        log.info("mqtt: accepting presses on %s/<button>/press", sink.base)
