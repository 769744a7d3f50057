"""Plumbing shared by flic-bridge and alert-server: stdlib, paho and uvicorn only, no domain types.

It imports neither program (tests/test_layout.py checks that), so the two stay independent.
"""
