"""The integrations domain."""
