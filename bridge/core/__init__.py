"""Accept -> outbox -> dispatch: the pipeline, button registry, outbox, delivery and health."""
