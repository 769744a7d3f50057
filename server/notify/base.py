"""What every channel receives (a Page) and raises (DeliveryError)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from server.errors import AlertServerError
from server.reports.drills import drill_text


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
    priority: str = "normal"
    drill: bool = False  # a drill pages as usual, marked DRILL in every channel

    def subject(self) -> str:
        """A short line for email subjects and push titles (new lines and tabs become spaces).

        Priorities other than normal lead it: `[flic-edge] URGENT Alert #3: ...`.
        """
        shown = "" if self.priority == "normal" else f"{self.priority.upper()} "
        line = " ".join(f"[flic-edge] {shown}Alert #{self.alert_id}: {self.title}".split())
        return drill_text(line, self.drill)

    def text(self) -> str:
        """The plain-text body: what happened and the two links."""
        lines = [drill_text(self.title, self.drill)]
        if self.priority != "normal":
            lines.append(f"Priority: {self.priority}")
        if self.drill:
            lines.append("This is a drill: please acknowledge it to prove pages reach you.")
        if self.description:
            lines.append(self.description)
        lines += ["", f"Acknowledge: {self.ack_url}", f"Close: {self.close_url}"]
        return "\n".join(lines)


class Channel(Protocol):
    """Delivers a page to one address (an email address or an Apprise URL)."""

    async def send(self, address: str, page: Page) -> None:
        """Deliver or raise DeliveryError."""
        ...
