"""`flic-bridge pair`: flicd's scan wizard, with plain instructions for the person pairing."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pyflic

log = logging.getLogger(__name__)

_FAILURES = {
    "WizardCancelledByUser": "cancelled",
    "WizardFailedTimeout": "no button found in time: hold it 7 s, close to the Pi, and retry",
    "WizardButtonIsPrivate": "the button is private: hold it 7 s until it blinks, then retry",
    "WizardBluetoothUnavailable": "flicd has no Bluetooth adapter (is hci0 up, not held by BlueZ?)",
    "WizardInternetBackendError": "flicd could not reach Flic's verification backend",
    "WizardInvalidData": "the button sent invalid data: try again",
    "WizardButtonBelongsToOtherPartner": "this button belongs to another partner app",
    "WizardButtonAlreadyConnectedToOtherDevice": "the button is connected to another phone or hub:"
    " remove it there (or turn that Bluetooth off) first",
}


def pair_with_flicd(host: str, port: int, *, timeout_s: float = 60.0) -> int:
    """Run one scan wizard against flicd; print what to do and the config to add. Exit code."""
    try:
        client = pyflic.FlicClient(host, port)
    except OSError as exc:
        print(f"flic-bridge: cannot reach flicd at {host}:{port}: {exc}")
        return 1
    result: dict[str, Any] = {}
    wizard = pyflic.ScanWizard()

    def found_private(_wizard: Any) -> None:
        print("Found a private button: hold it down for 7 seconds until it blinks.", flush=True)

    def found_public(_wizard: Any, address: str, name: str) -> None:
        print(f"Found {name} ({address}); connecting...", flush=True)

    def connected(_wizard: Any, address: str, name: str) -> None:
        print(f"Connected to {address}; verifying and pairing...", flush=True)

    def completed(_wizard: Any, outcome: Any, address: str | None, name: str | None) -> None:
        result.update(outcome=outcome, address=address, name=name)
        client.close()

    wizard.on_found_private_button = found_private
    wizard.on_found_public_button = found_public
    wizard.on_button_connected = connected
    wizard.on_completed = completed
    print(
        f"Scanning through flicd at {host}:{port} for {timeout_s:.0f} s. Press and hold the"
        " new Flic button for 7 seconds (until it blinks); keep it close to the Pi.",
        flush=True,
    )
    client.add_scan_wizard(wizard)
    timer = threading.Timer(timeout_s, client.cancel_scan_wizard, args=(wizard,))
    timer.daemon = True
    timer.start()
    try:
        client.handle_events()
    except OSError as exc:
        print(f"flic-bridge: connection to flicd lost: {exc}")
        return 1
    finally:
        timer.cancel()
    outcome = result.get("outcome")
    if outcome is None:
        print("flic-bridge: flicd closed the connection before the wizard finished")
        return 1
    if outcome != pyflic.ScanWizardResult.WizardSuccess:
        print(f"Pairing failed: {_FAILURES.get(outcome.name, outcome.name)}")
        return 1
    address = result["address"]
    print(f"Paired {result['name'] or 'button'} {address}. Add it to your bridge config:\n")
    print(f'[[button]]\naddress = "{address}"\nname = "my-button"\non = ["single", "hold"]')
    print('off = ["double"]\ninfo = ""\n')
    print("Until then the running bridge already forwards it with the default mapping.")
    return 0
