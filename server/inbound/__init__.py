"""The inbound domain."""
