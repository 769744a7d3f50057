"""`make bench`: reproducible numbers for ingest, end-to-end latency, the outbox and memory."""
