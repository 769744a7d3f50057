"""Click sources: flicd (pyflic), Flic 2 over BLE (bleak), Flic Hub modules."""
