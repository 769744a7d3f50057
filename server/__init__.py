"""alert-server: on-premises alerting with Flic (AlertOps-style) inbound integrations."""

__version__ = "0.1.0"
