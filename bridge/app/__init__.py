"""The composition root: builds the parts and runs them; no other bridge package imports it."""
