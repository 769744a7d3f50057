"""What every channel receives (a Page) and raises (DeliveryError)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from server.errors import AlertServerError


class DeliveryError(AlertServerError):
    """A page did not go out; `permanent` means retrying the same contact is pointless."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        self.reason = reason
        self.permanent = permanent
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Page:
    """One notification about one alert, with the links that act on it."""

    alert_id: int
    title: str
    description: str
    ack_url: str
    close_url: str

    def subject(self) -> str:
        """A short line for email subjects and push titles (new lines and tabs become spaces)."""
        return " ".join(f"[flic-edge] Alert #{self.alert_id}: {self.title}".split())

    def text(self) -> str:
        """The plain-text body: what happened and the two links."""
        lines = [self.title]
        if self.description:
            lines.append(self.description)
        lines += ["", f"Acknowledge: {self.ack_url}", f"Close: {self.close_url}"]
        return "\n".join(lines)


class Channel(Protocol):
    """Delivers a page to one address (an email address or an Apprise URL)."""

    async def send(self, address: str, page: Page) -> None:
        """Deliver or raise DeliveryError."""
        ...
