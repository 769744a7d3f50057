"""A person's contacts: which kind each URL is and which ones a step uses."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from server.escalation.machine import Via

# Apprise schemes whose service delivers SMS; everything else Apprise knows counts as push.
SMS_SCHEMES = frozenset(
    {
        "twilio", "sns", "clicksend", "d7sms", "msg91", "plivo", "vonage", "nexmo", "sinch",
        "bulksms", "bulkvs", "smseagle", "smseagles", "httpsms", "seven", "kavenegar", "msgbird",
        "burstsms", "atalk", "voipms", "telnyx", "clickatell", "infobip", "serwersms",
        "signalgrid", "smpp", "smpps", "freemobile", "exotel", "46elks", "mobilemessage", "smsc",
        "smstunnel", "notifyre", "eight00com", "kaleyra", "telesign", "cm", "octopush", "ringc",
        "gupshup",
    }
)  # fmt: skip
EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a person: `channel` is "email" (SMTP) or "apprise"."""

    kind: Via
    channel: str
    address: str


def kind_of(url: str) -> Via:
    """The kind of an Apprise URL, guessed from its scheme."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in SMS_SCHEMES:
        return "sms"
    if scheme in EMAIL_SCHEMES:
        return "email"
    return "push"


def contacts_of(email: str | None, urls: tuple[tuple[str, Via | None], ...]) -> tuple[Contact, ...]:
    """Every contact in order: the email address first, then each URL (kind given or guessed)."""
    found = [Contact("email", "email", email)] if email else []
    found += [Contact(kind or kind_of(url), "apprise", url) for url, kind in urls]
    return tuple(found)


def select(contacts: tuple[Contact, ...], via: tuple[Via, ...] | None) -> tuple[Contact, ...]:
    """The contacts a step pages: those of the kinds in `via`, or all of them."""
    if via is None:
        return contacts
    return tuple(c for c in contacts if c.kind in via)


def fallback(contacts: tuple[Contact, ...], tried: frozenset[int], failed_index: int) -> int | None:
    """The index of the next contact after `failed_index` not already tried (wrapping), or None."""
    count = len(contacts)
    for step in range(1, count):
        index = (failed_index + step) % count
        if index not in tried:
            return index
    return None


def shown(contact: Contact) -> str:
    """The contact as answers and timelines may show it: an Apprise URL's secrets stay out."""
    if contact.channel == "email":
        return contact.address
    return f"{urlsplit(contact.address).scheme}://…"
