"""Presses forwarded by a Flic Hub's SDK script over HTTP."""
