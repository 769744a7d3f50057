"""The responder loop's schema: what integrations and policies gain for urgent calls."""
