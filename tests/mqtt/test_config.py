"""`[mqtt]` in both configs: defaults, and every mistake reported by name."""

from __future__ import annotations

import pytest

from bridge.app.wiring import broker_settings, discovery_button
from bridge.config import parse_config
from bridge.errors import ConfigError
from server.config import load_config
from server.errors import ConfigError as ServerConfigError
from server.mqtt.config import MqttSection


def test_bridge_mqtt_defaults_and_extras() -> None:
    config = parse_config(
        {
            "bridge": {"name": "hall"},
            "mqtt": {
                "enabled": True,
                "protocol": "5",
                "tls": True,
                "ca_file": "",
                "accept_press": True,
            },
            "button": [
                {
                    "address": "80:E4:DA:71:23:45",
                    "name": "front-desk",
                    "on": ["hold", "single"],
                    "off": ["double"],
                }
            ],
        }
    )
    settings = broker_settings(config)
    assert (settings.base_topic, settings.discovery_prefix, settings.port) == (
        "flic",
        "homeassistant",
        1883,
    )
    assert (settings.protocol, settings.tls, settings.ca_file, settings.accept_press) == (
        "5",
        True,
        None,
        True,
    )
    # click types in the contract's order, whatever order the config lists them in
    assert discovery_button(config.buttons[0]).click_types == ("single", "double", "hold")


def test_bridge_mqtt_mistakes_are_all_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"mqtt": {"protocol": "4", "base_topic": "flic/#", "port": 0, "colour": "red"}}
        )
    problems = "\n".join(caught.value.problems)
    for key in ("mqtt.protocol", "mqtt.base_topic", "mqtt.port", "mqtt.colour"):
        assert key in problems


def test_server_mqtt_section_from_the_environment() -> None:
    config = load_config(
        env={
            "ALERT_SERVER_MQTT_ENABLED": "true",
            "ALERT_SERVER_MQTT_PORT": "8883",
            "ALERT_SERVER_MQTT_PROTOCOL": "5",
        }
    )
    section = config.section("mqtt", MqttSection)
    assert (section.enabled, section.port, section.protocol, section.base_topic) == (
        True,
        8883,
        "5",
        "flic",
    )


def test_server_mqtt_mistakes_name_the_key() -> None:
    with pytest.raises(ServerConfigError) as caught:
        load_config(env={"ALERT_SERVER_MQTT_PORT": "lots", "ALERT_SERVER_MQTT_BASE_TOPIC": "a/+"})
    text = str(caught.value)
    assert "[mqtt] port" in text
    assert "[mqtt] base_topic" in text
