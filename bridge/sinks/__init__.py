"""Delivery targets fed by the outbox: webhooks (HTTP) and MQTT."""
