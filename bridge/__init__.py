"""flic-bridge: Flic button presses to durable On/Off webhooks and MQTT."""

__version__ = "0.1.0"
