"""Delivering queued pages: retries with backoff, fall-through to the next contact, throttling.

Each outcome is recorded on the alert's timeline. Database work runs through the server's
database runner; only the sending itself happens on the event loop (channels use threads).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from server.escalation.links import LinkAction, LinkClaim, link_url, sign
from server.escalation.state_store import AlertView, EscalationStore, Notification
from server.notify.base import Channel, DeliveryError, Page
from server.notify.contacts import fallback

log = logging.getLogger("server.delivery")

R = TypeVar("R")
Clock = Callable[[], datetime]


class DbRunner(Protocol):
    """Runs a database function where the database lives (the server's one writer thread)."""

    def __call__(self, fn: Callable[[], R]) -> Awaitable[R]:
        """`fn()` on the database thread."""
        ...


class AlertBook(Protocol):
    """The alert store, as the scheduler sees it."""

    def alert(self, alert_id: int) -> AlertView | None:
        """One alert or None."""
        ...

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append an entry to the alert's timeline."""
        ...

    def unescalated(self) -> list[tuple[int, int, datetime]]:
        """Open alerts whose integration has a policy but that have no escalation yet."""
        ...


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """The `[escalation]` config section."""

    tick_s: float = 1.0
    retry_base_s: float = 30.0
    retry_max_s: float = 600.0
    max_attempts: int = 3
    throttle_max: int = 5
    throttle_window_s: float = 600.0
    link_ttl_s: float = 7 * 86400.0
    send_timeout_s: float = 60.0


def retry_delay_s(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff after failed attempt number `attempt` (1-based)."""
    return float(min(max_s, base_s * 2 ** max(0, attempt - 1)))


class Delivery:
    """Sends one queued page at a time and records what happened."""

    def __init__(
        self,
        store: EscalationStore,
        alerts: AlertBook,
        channels: Mapping[str, Channel],
        clock: Clock,
        db: DbRunner,
        *,
        link_secret: bytes,
        public_base_url: str,
        settings: EscalationSettings,
        stop_alert: Callable[[int, str], None],
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        self._store = store
        self._alerts = alerts
        self._channels = channels
        self._clock = clock
        self._db = db
        self._secret = link_secret
        self._base_url = public_base_url
        self._settings = settings
        self._stop_alert = stop_alert
        self._on_outcome = on_outcome or (lambda outcome, kind: None)

    def reconfigure(self, settings: EscalationSettings, public_base_url: str) -> None:
        """New settings and link base URL for the pages prepared from now on."""
        self._settings = settings
        self._base_url = public_base_url

    def _page(self, alert: AlertView) -> Page:
        expires_at = self._clock() + timedelta(seconds=self._settings.link_ttl_s)

        def url(action: LinkAction) -> str:
            claim = LinkClaim(action, alert.id, expires_at)
            return link_url(self._base_url, sign(self._secret, claim))

        return Page(
            alert.id,
            alert.title,
            alert.description,
            url("acknowledge"),
            url("close"),
            priority=alert.priority,
            drill=alert.drill,
        )

    def _prepare(self, n: Notification, now: datetime) -> tuple[Page, str] | None:
        """The page to send and who it is for; None when the alert or a throttle stops it."""
        alert = self._alerts.alert(n.alert_id)
        if alert is None or alert.status != "open":
            self._stop_alert(n.alert_id, f"alert {'deleted' if alert is None else alert.status}")
            return None
        contact = n.contact
        who = self._store.user(n.user_id)
        target = f"{contact.kind} {_redact(contact.address)} ({who.name if who else n.user_id})"
        s = self._settings
        since = now - timedelta(seconds=s.throttle_window_s)
        if self._store.sent_to_since(contact.address, since) >= s.throttle_max:
            with self._store.transaction() as db:
                self._store.update_notification(
                    db, n, status="throttled", attempt=n.attempt, next_attempt_at=None,
                    last_error="throttled",
                )  # fmt: skip
            detail = f"{target}: throttled, {s.throttle_max} pages in {s.throttle_window_s:g}s"
            self._alerts.add_timeline(n.alert_id, now, "notification_throttled", detail)
            return None
        return self._page(alert), target

    async def deliver(self, n: Notification, now: datetime) -> None:
        prepared = await self._db(lambda: self._prepare(n, now))
        if prepared is None:
            return
        page, target = prepared
        contact = n.contact
        s = self._settings
        attempt = n.attempt + 1
        channel = self._channels.get(contact.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {contact.channel} not configured", permanent=True)
            async with asyncio.timeout(s.send_timeout_s):
                await channel.send(contact.address, page)
        except Exception as exc:  # any channel failure is a recorded attempt that falls through
            error = _as_delivery_error(exc)
            if not isinstance(exc, DeliveryError | TimeoutError):
                log.error("alert %s: channel %s raised", n.alert_id, contact.channel, exc_info=exc)
            outcome = await self._db(lambda: self._failed(n, attempt, error, target))
            self._on_outcome(outcome, contact.kind)
            return
        await self._db(lambda: self._succeeded(n, attempt, target, now))
        self._on_outcome("sent", contact.kind)

    def _succeeded(self, n: Notification, attempt: int, target: str, now: datetime) -> None:
        with self._store.transaction() as db:
            self._store.update_notification(
                db, n, status="sent", attempt=attempt, next_attempt_at=None, last_error=None,
                sent_at=now,
            )  # fmt: skip
        detail = f"{target}: sent (attempt {attempt})"
        self._alerts.add_timeline(n.alert_id, now, "notification_sent", detail)
        log.info("alert %s: page sent to %s", n.alert_id, target)

    def _failed(self, n: Notification, attempt: int, error: DeliveryError, target: str) -> str:
        """Record a failed attempt: retry later, or give up and fall through; the outcome."""
        now = self._clock()
        s = self._settings
        entries: list[tuple[str, str]] = []
        with self._store.transaction() as db:
            if not error.permanent and attempt < s.max_attempts:
                delay_s = retry_delay_s(attempt, s.retry_base_s, s.retry_max_s)
                self._store.update_notification(
                    db, n, status="pending", attempt=attempt,
                    next_attempt_at=now + timedelta(seconds=delay_s), last_error=error.reason,
                )  # fmt: skip
                entries.append(
                    (
                        "notification_failed",
                        f"{target}: attempt {attempt} failed ({error.reason}); "
                        f"retrying in {delay_s:g}s",
                    )
                )
            else:
                self._store.update_notification(
                    db, n, status="failed", attempt=attempt, next_attempt_at=None,
                    last_error=error.reason,
                )  # fmt: skip
                entries.append(
                    (
                        "notification_gave_up",
                        f"{target}: attempt {attempt} failed ({error.reason}); giving up",
                    )
                )
                index = fallback(n.contacts, n.tried, n.contact_index)
                if index is not None:
                    self._store.add_notification(
                        db, alert_id=n.alert_id, user_id=n.user_id, step=n.step, cycle=n.cycle,
                        contacts=n.contacts, contact_index=index, tried=n.tried, now=now,
                    )  # fmt: skip
                    nxt = n.contacts[index]
                    entries.append(
                        (
                            "notification_fallthrough",
                            f"trying next contact: {nxt.kind} {_redact(nxt.address)}",
                        )
                    )
        log.warning("alert %s: page to %s failed: %s", n.alert_id, target, error.reason)
        for kind, detail in entries:
            self._alerts.add_timeline(n.alert_id, now, kind, detail)
        return "retrying" if entries[0][0] == "notification_failed" else "gave_up"


def _as_delivery_error(exc: Exception) -> DeliveryError:
    """A channel's exception as a failed attempt; an unexpected one is permanent (a bug or a
    page the channel cannot carry: retrying the same contact would fail the same way)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, TimeoutError):
        return DeliveryError("timed out")
    return DeliveryError(f"{type(exc).__name__}: {exc}"[:300], permanent=True)


def _redact(address: str) -> str:
    """An address fit for the timeline: the scheme and host of a URL, never its secrets."""
    if "://" not in address:
        return address
    scheme, _, rest = address.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…"
