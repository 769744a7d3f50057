"""Every non-email contact through an Apprise URL (ntfy://, tgram://, twilio://, json://, ...)."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import warnings

import apprise

from server.notify.base import DeliveryError, Page


class _ThreadErrors(logging.Handler):
    """Collects Apprise warnings raised on one thread (several pages may go out at once)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def _preload_imghdr() -> None:
    """Import stdlib imghdr once, quietly: Apprise's email plugin needs it for PGPy.

    imghdr warns that it is deprecated (gone in 3.13, where Apprise shims it). Apprise
    imports it lazily on the first URL it parses, on a delivery thread; importing it here,
    with only that warning silenced, keeps a foreign deprecation out of every delivery.
    """
    if sys.version_info >= (3, 13) or "imghdr" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        __import__("imghdr")


class AppriseChannel:
    """Sends each page through Apprise; the reason for a failure comes from Apprise's log."""

    def __init__(self) -> None:
        _preload_imghdr()

    async def send(self, address: str, page: Page) -> None:
        """Deliver or raise DeliveryError (permanent for a URL Apprise cannot use)."""
        await asyncio.to_thread(self._send_sync, address, page)

    def _send_sync(self, address: str, page: Page) -> None:
        sender = apprise.Apprise()
        if not sender.add(address):
            raise DeliveryError("not a usable Apprise URL", permanent=True)
        handler = _ThreadErrors()
        logger = logging.getLogger("apprise")
        logger.addHandler(handler)
        try:
            ok = sender.notify(body=page.text(), title=page.subject())
        finally:
            logger.removeHandler(handler)
        if not ok:
            reason = "; ".join(handler.messages[-2:]) or "the service refused the notification"
            raise DeliveryError(reason)


def usable_url(url: str) -> bool:
    """Whether Apprise can build a notifier from `url` (syntax and scheme only, no I/O)."""
    _preload_imghdr()
    return bool(apprise.Apprise().add(url))
