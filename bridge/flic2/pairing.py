"""What a pairing stores for quick verify, with a JSON-friendly form (the BLE source writes it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bridge.flic2.errors import ProtocolError


def address_to_wire(address: str) -> bytes:
    """ "80:e4:da:71:23:45" -> the 6 bytes the button sends (least significant first)."""
    raw = bytes.fromhex(address.replace(":", ""))
    if len(raw) != 6:
        raise ValueError(f"not a Bluetooth address: {address!r}")
    return raw[::-1]


def address_from_wire(raw: bytes) -> str:
    """The inverse of `address_to_wire`, lower case."""
    return ":".join(f"{b:02x}" for b in raw[::-1])


@dataclass(frozen=True, slots=True)
class Pairing:
    """A paired button: the secrets for quick verify and where its event stream stands."""

    address: str
    pairing_id: int
    pairing_key: bytes  # 16 bytes
    event_count: int = 0
    boot_id: int = 0
    name: str = ""
    serial_number: str = ""
    uuid: str = ""
    firmware_version: int = 0
    adv_configured: bool = False  # SetAdvParameters sent since the button's last boot
    duo: bool = False  # a Flic Duo: two buttons, `event_count` the big one's
    event_count_small: int = 0
    twist: bool = False  # a Flic Twist: its own service and protocol
    selector: int = 0  # a Twist's selector position (0-11) as last reported

    def to_json(self) -> dict[str, Any]:
        """A dict for json.dumps (the key as hex)."""
        data = asdict(self)
        data["pairing_key"] = self.pairing_key.hex()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pairing:
        """Rebuild from `to_json` output; a damaged record raises ProtocolError naming the field."""
        try:
            key = bytes.fromhex(str(data["pairing_key"]))
            pairing = cls(
                address=str(data["address"]).lower(),
                pairing_id=int(data["pairing_id"]),
                pairing_key=key,
                event_count=int(data.get("event_count", 0)),
                boot_id=int(data.get("boot_id", 0)),
                name=str(data.get("name", "")),
                serial_number=str(data.get("serial_number", "")),
                uuid=str(data.get("uuid", "")),
                firmware_version=int(data.get("firmware_version", 0)),
                adv_configured=bool(data.get("adv_configured", False)),
                duo=bool(data.get("duo", False)),
                event_count_small=int(data.get("event_count_small", 0)),
                twist=bool(data.get("twist", False)),
                selector=int(data.get("selector", 0)),
            )
            address_to_wire(pairing.address)
        except (KeyError, ValueError, TypeError) as exc:
            raise ProtocolError(f"stored pairing is damaged: {exc!r}") from exc
        if len(key) != 16:
            raise ProtocolError("stored pairing is damaged: pairing_key is not 16 bytes")
        return pairing
