"""Flic 2 buttons over Bluetooth LE, driven by bridge.flic2; bleak is optional hardware."""
