"""The mqtt domain."""
