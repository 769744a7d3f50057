"""The db domain."""
