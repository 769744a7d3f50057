"""Where BLE pairings live: one JSON file per button under `<state_dir>/flic2/`, mode 0600."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from bridge.errors import SourceError
from bridge.flic2 import Flic2Error, Pairing


class PairingStore:
    """Pairings as one JSON file per button under `<state_dir>/flic2/`, mode 0600."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "flic2"

    def _path(self, address: str) -> Path:
        return self.directory / (address.lower().replace(":", "") + ".json")

    def load(self, address: str) -> Pairing | None:
        """The stored pairing of one button, or None."""
        try:
            data = json.loads(self._path(address).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read the pairing of {address}: {exc}") from exc
        try:
            return Pairing.from_json(data)
        except Flic2Error as exc:
            raise SourceError(f"{address}: {exc}; pair it again (flic-bridge pair --ble)") from exc

    def addresses(self) -> list[str]:
        """Addresses of every stored pairing."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(str(json.loads(path.read_text())["address"]).lower())
        return found

    def save(self, pairing: Pairing) -> None:
        """Write atomically; only the bridge's user may read the keys."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._path(pairing.address)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(pairing.to_json(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def load_all(self) -> dict[str, Pairing]:
        """Every readable stored pairing by address (a damaged one is left out: the BLE
        source names it when it tries to connect)."""
        found = {}
        for address in self.addresses():
            with contextlib.suppress(SourceError):
                if (pairing := self.load(address)) is not None:
                    found[address] = pairing
        return found
