"""Clicks from a flicd daemon, and pairing through it."""
