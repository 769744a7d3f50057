"""Bridges reporting in: their last health report, and an alert when one goes silent."""

from server.bridges.plugin import plugin_for_bridges

__all__ = ["plugin_for_bridges"]
