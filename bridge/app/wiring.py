"""Builds a bridge's parts from its config and hands each the parts it needs.

The runtime only runs what this module built: pipeline, targets, outbox, registry, the source
supervisors, the health monitor, the MQTT sink and press topic, and the web face's parts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge import __version__
from bridge.app.token import bridge_token
from bridge.clicks import DUO_GESTURES, TWIST_GESTURES, heard_click_types
from bridge.config import ButtonSpec, Config
from bridge.core.health import HealthMonitor, SourceView
from bridge.core.outbox import Outbox
from bridge.core.pipeline import ClickPipeline
from bridge.core.registry import ButtonRegistry
from bridge.core.supervisor import Supervisor
from bridge.core.targets import Targets, http_sink
from bridge.flic2 import Pairing
from bridge.metrics import Metrics
from bridge.models import ButtonSeen, ClickType
from bridge.mqtt.discovery import DiscoveryButton
from bridge.mqtt.link import BrokerSettings
from bridge.mqtt.topics import segment
from bridge.sinks.base import Sink
from bridge.sinks.mqtt import MqttSink
from bridge.sources.base import UP_STATES, ClickSource, SourceStatus
from bridge.sources.ble.source import ble_sources_for
from bridge.sources.ble.store import PairingStore
from bridge.sources.flicd.source import flicd_source_for
from bridge.sources.hub.receiver import HubReceiver
from bridge.sources.mqtt_press import MqttPressInput
from bridge.web.status import HubSlot, WebParts

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


def discovery_button(spec: ButtonSpec, pairing: Pairing | None = None) -> DiscoveryButton:
    """A configured button for discovery: every click type it makes, mapped or not, in the
    enum's order (so Home Assistant can use a hold the webhook mapping leaves out). Its BLE
    pairing, if any, says what it is: a Duo's two buttons, a Twist's selector."""
    heard = heard_click_types(spec)
    if pairing is None:
        clicks = tuple(c.value for c in ClickType if c in heard)
        return DiscoveryButton(address=spec.address, name=spec.name, click_types=clicks)
    if pairing.duo or pairing.twist:
        heard |= DUO_GESTURES if pairing.duo else TWIST_GESTURES
    clicks = tuple(c.value for c in ClickType if c in heard)
    model = "Flic Duo" if pairing.duo else "Flic Twist" if pairing.twist else "Flic 2"
    return DiscoveryButton(
        address=spec.address,
        name=spec.name,
        click_types=clicks,
        model=model,
        button_count=2 if pairing.duo else 1,
        has_selector=pairing.twist,
    )


def mqtt_sink(config: Config) -> MqttSink:
    """The MQTT outbox target (`name` "mqtt") for an `[mqtt] enabled` config."""
    paired = PairingStore(config.bridge.state_dir).load_all() if config.ble.enabled else {}
    return MqttSink(
        broker_settings(config),
        bridge_name=config.bridge.name,
        buttons=[discovery_button(b, paired.get(b.address)) for b in config.buttons],
        sw_version=__version__,
    )


def default_sinks(config: Config) -> list[Sink]:
    sinks: list[Sink] = [http_sink(t) for t in config.forward]
    if config.mqtt.enabled:
        sinks.append(mqtt_sink(config))
    return sinks


def default_sources(config: Config, clock: Callable[[], datetime]) -> list[ClickSource]:
    found: list[ClickSource] = []
    if config.flicd.enabled:
        found.append(flicd_source_for(config, clock=clock))
    if config.ble.enabled:
        found.extend(ble_sources_for(config, clock=clock))
    return found


def attach_mqtt(config: Config, targets: Targets, pipeline: ClickPipeline) -> None:
    """Battery/connection news to the retained button state; the optional press topic."""
    sink = next((s for s in targets.sinks if isinstance(s, MqttSink)), None)
    if sink is None:
        return
    registry = pipeline.registry

    def on_seen(news: ButtonSeen) -> None:
        sink.observe(registry.resolve(news.address).name, news)

    pipeline.subscribe_seen(on_seen)
    if config.mqtt.accept_press:
        by_segment = {segment(b.name): b.address for b in config.buttons}

        def resolve(level: str) -> str | None:
            return by_segment.get(level)

        MqttPressInput(
            sink.link,
            base_topic=sink.base,
            resolve=resolve,
            accept=pipeline.accept,
            clock=pipeline.clock,
        )
        log.info("mqtt: accepting presses on %s/<button>/press", sink.base)


def health_monitor(
    config: Config,
    targets: Targets,
    registry: ButtonRegistry,
    supervisors: Sequence[Supervisor],
    hub_slot: HubSlot,
    clock: Callable[[], datetime],
) -> HealthMonitor:
    """The monitor of a running bridge: its buttons, sources and targets."""

    hub_down_since: list[datetime | None] = [None]

    def sources() -> list[SourceView]:
        found = [SourceView(s.name, s.state, s.since) for s in supervisors]
        hub = hub_slot.receiver
        if hub is not None:
            try:
                state = str(dict(hub.status()).get("state", "listening"))
            except Exception:  # a failing hub status must not stop the health check
                state = SourceStatus.UNKNOWN
            # The hub status has no "since": the first check that saw it down stands in.
            if state in UP_STATES:
                hub_down_since[0] = None
            elif hub_down_since[0] is None:
                hub_down_since[0] = clock()
            found.append(SourceView("hub", state, hub_down_since[0]))
        return found

    monitor = HealthMonitor(
        config.health,
        bridge_name=config.bridge.name,
        state_dir=config.bridge.state_dir,
        outbox=targets.outbox,
        targets=targets.names,
        buttons=registry.states,
        sources=sources,
        clock=clock,
        wake=targets.wake,
    )
    for address, known in monitor.remembered().items():  # the status page shows them too
        registry.restore(address, known.battery, known.last_seen_at)
    return monitor


@dataclass(frozen=True, slots=True)
class Parts:
    """Everything one bridge is made of; the runtime runs them."""

    token: str
    metrics: Metrics
    registry: ButtonRegistry
    outbox: Outbox
    targets: Targets
    pipeline: ClickPipeline
    supervisors: list[Supervisor]
    hub: HubSlot
    health: HealthMonitor
    web: WebParts


def build(
    config: Config,
    *,
    clock: Callable[[], datetime],
    rand: Callable[[], float],
    sinks: Sequence[Sink] | None = None,
    sources: Sequence[ClickSource] | None = None,
) -> Parts:
    """The parts of a bridge from its config (`sinks`/`sources` replace the configured ones)."""
    token = bridge_token(config)
    metrics = Metrics()
    limits = config.limits
    registry = ButtonRegistry(config.buttons, max_unknown=limits.max_unknown_buttons)
    outbox = Outbox.in_state_dir(config.bridge.state_dir, max_clicks=limits.max_outbox_clicks)
    chosen_sinks = list(sinks) if sinks is not None else default_sinks(config)
    targets = Targets(outbox, chosen_sinks, clock=clock, rand=rand, metrics=metrics)
    pipeline = ClickPipeline(
        config.bridge.name, registry, outbox, targets, metrics=metrics, clock=clock
    )
    chosen = list(sources) if sources is not None else default_sources(config, clock)
    supervisors = [Supervisor(s, pipeline.handle, clock=clock, rand=rand) for s in chosen]
    if config.mqtt.enabled:
        attach_mqtt(config, targets, pipeline)
    hub = HubSlot(
        HubReceiver(pipeline.accept, pipeline.observe, clock) if config.hub.enabled else None
    )
    started_at = clock()
    health = health_monitor(config, targets, registry, supervisors, hub, clock)
    web = WebParts(
        bridge_name=config.bridge.name,
        token=token,
        pipeline=pipeline,
        targets=targets,
        outbox=outbox,
        registry=registry,
        supervisors=supervisors,
        hub=hub,
        health=health,
        metrics=metrics,
        clock=clock,
        started_at=started_at,
    )
    return Parts(token, metrics, registry, outbox, targets, pipeline, supervisors, hub, health, web)
