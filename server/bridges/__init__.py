"""Bridges reporting in: their last health report, and an alert when one goes silent."""

from server.bridges.plugin import bridges_plugin

__all__ = ["bridges_plugin"]
