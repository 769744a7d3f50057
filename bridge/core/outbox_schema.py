"""The outbox's SQLite schema (one row per click and target; see outbox.py)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    button_address TEXT NOT NULL,
    button_name TEXT NOT NULL,
    click_type TEXT NOT NULL,
    source TEXT NOT NULL,
    queued INTEGER NOT NULL,
    pressed_ts REAL NOT NULL,
    created_ts REAL NOT NULL,
    body TEXT
);
CREATE INDEX IF NOT EXISTS events_button ON events (button_address, seq);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER NOT NULL REFERENCES events (seq),
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    last_error TEXT,
    PRIMARY KEY (seq, target)
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (target, state, seq);
"""
