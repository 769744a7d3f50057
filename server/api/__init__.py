"""HTTP routers of the alert server; each module exposes `router`."""
