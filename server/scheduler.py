"""Drives escalations and deliveries with an injected clock; all state lives in the database.

A step is claimed (state advanced, pages queued) in one transaction, so a restart neither
loses nor repeats a step. Deliveries are retried with backoff, fall through to the person's
next contact when one keeps failing, and are throttled per contact.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from server.escalation import (
    RunStep,
    next_action,
    resolve_targets,
    start,
    step_ran,
    stop,
)
from server.escalation_store import AlertView, EscalationStore, Notification
from server.links import LinkAction, LinkClaim, link_url, sign
from server.notify.base import Channel, DeliveryError, Page
from server.notify.contacts import contacts_of, fallback, select

log = logging.getLogger(__name__)

R = TypeVar("R")
Clock = Callable[[], datetime]


class DbRunner(Protocol):
    """Runs a database function where the database lives (the server's one writer thread)."""

    def __call__(self, fn: Callable[[], R]) -> Awaitable[R]:
        """`fn()` on the database thread."""
        ...


class FileClock:
    """A test clock: the instant written in a file (ISO 8601), the real time until it exists."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __call__(self) -> datetime:
        """The instant in the file, or the real time."""
        try:
            text = self._path.read_text().strip()
        except FileNotFoundError:
            return datetime.now(UTC)
        return datetime.fromisoformat(text).astimezone(UTC)


class AlertBook(Protocol):
    """The alert store, as the scheduler sees it."""

    def alert(self, alert_id: int) -> AlertView | None:
        """One alert or None."""
        ...

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append an entry to the alert's timeline."""
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


class Scheduler:
    """Runs due escalation steps and delivers queued pages; one instance per server."""

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
        self._on_outcome = on_outcome or (lambda outcome, kind: None)
        self._wake = asyncio.Event()
        self._sending: dict[int, asyncio.Task[None]] = {}
        self.ticks = 0

    # --- lifecycle hooks ----------------------------------------------------------------

    async def on_open(self, alert_id: int, policy_id: int | None) -> None:
        """An alert opened: start escalating it now."""
        await self._db(lambda: self.alert_opened(alert_id, policy_id))
        self.wake()

    async def on_stop(self, alert_id: int, reason: str) -> None:
        """An alert was acknowledged or closed: stop paging for it."""
        await self._db(lambda: self.alert_stopped(alert_id, reason))

    def alert_opened(self, alert_id: int, policy_id: int | None) -> None:
        """Start escalating a newly opened alert (once: a second call changes nothing)."""
        now = self._clock()
        if policy_id is None:  # the integration pages nobody: nothing to record
            log.debug("alert %s: integration has no escalation policy", alert_id)
            return
        stored = self._store.policy(policy_id)
        if stored is None:
            self._alerts.add_timeline(
                alert_id, now, "escalation_none", f"escalation policy {policy_id} not found"
            )
            return
        with self._store.transaction() as db:
            if self._store.escalation(alert_id) is not None:
                return
            self._store.save_escalation(db, start(alert_id, policy_id, stored.policy, now), now)
        self._alerts.add_timeline(
            alert_id, now, "escalation_started", f"policy {stored.name!r} (#{policy_id})"
        )

    def alert_stopped(self, alert_id: int, reason: str) -> None:
        """Stop escalating (acknowledged or closed) and cancel pages not yet sent."""
        now = self._clock()
        with self._store.transaction() as db:
            state = self._store.escalation(alert_id)
            if state is None or state.status != "active":
                cancelled = self._store.cancel_pending(db, alert_id, reason)
                state = None
            else:
                self._store.save_escalation(db, stop(state, reason), now)
                cancelled = self._store.cancel_pending(db, alert_id, reason)
        if state is not None or cancelled:
            detail = f"{reason}; {cancelled} pending notification(s) cancelled"
            self._alerts.add_timeline(alert_id, now, "escalation_stopped", detail)

    def wake(self) -> None:
        """Run a tick now instead of at the next interval."""
        self._wake.set()

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Tick until cancelled; one failing tick is logged and the next one runs."""
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    log.exception("escalation tick failed")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self._settings.tick_s)
                except TimeoutError:
                    pass
        finally:
            for task in list(self._sending.values()):
                task.cancel()

    async def tick(self) -> None:
        """Run every step that is due, then start delivering every page that is due."""
        now = self._clock()
        due_steps = await self._db(lambda: self._store.due_escalations(now))
        for state in due_steps:
            await self._db(functools.partial(self._run_step, state.alert_id, now))
        due_pages = await self._db(lambda: self._store.due_notifications(now))
        for n in due_pages:
            if n.id not in self._sending:
                task = asyncio.create_task(self._deliver(n, now), name=f"page-{n.id}")
                self._sending[n.id] = task
                task.add_done_callback(functools.partial(self._sent, n.id))
        self.ticks += 1

    def _sent(self, notification_id: int, task: asyncio.Task[None]) -> None:
        self._sending.pop(notification_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("page %s: delivery crashed", notification_id, exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for every delivery in flight (tests, shutdown)."""
        while self._sending:
            await asyncio.gather(*self._sending.values(), return_exceptions=True)

    def _run_step(self, alert_id: int, now: datetime) -> None:
        alert = self._alerts.alert(alert_id)
        if alert is None or alert.status != "open":
            status = "deleted" if alert is None else alert.status
            self.alert_stopped(alert_id, f"alert {status}")
            return
        timeline: list[tuple[str, str]] = []
        with self._store.transaction() as db:
            state = self._store.escalation(alert_id)
            if state is None:
                return
            stored = self._store.policy(state.policy_id)
            if stored is None:
                self._store.save_escalation(db, stop(state, "policy deleted"), now)
                timeline.append(("escalation_stopped", "escalation policy deleted"))
                action = None
            else:
                action = next_action(stored.policy, state, now)
            if isinstance(action, RunStep) and stored is not None:
                paged = self._queue_step(db, alert_id, action, now)
                label = f"step {action.step + 1}" + (
                    f" (repeat {action.cycle})" if action.cycle else ""
                )
                if paged:
                    timeline.append(("escalation_step", f"{label}: paging {', '.join(paged)}"))
                else:
                    timeline.append(("escalation_step_skipped", f"{label}: nobody to page"))
                after = step_ran(stored.policy, state, now, paged=bool(paged))
                self._store.save_escalation(db, after, now)
                if after.status == "finished":
                    timeline.append(("escalation_finished", after.reason or ""))
        for kind, detail in timeline:
            self._alerts.add_timeline(alert_id, now, kind, detail)

    def _queue_step(
        self, db: sqlite3.Connection, alert_id: int, action: RunStep, now: datetime
    ) -> list[str]:
        groups = {g.id: g.members for g in self._store.groups()}
        schedules = {s.id: s.schedule for s in self._store.schedules()}
        paged: list[str] = []
        for user_id in resolve_targets(action.targets, groups, schedules, now):
            user = self._store.user(user_id)
            if user is None:
                continue
            contacts = contacts_of(user.email, user.contacts)
            chosen = select(contacts, action.via)
            for contact in chosen:
                index = contacts.index(contact)
                self._store.add_notification(
                    db,
                    alert_id=alert_id,
                    user_id=user_id,
                    step=action.step,
                    cycle=action.cycle,
                    contacts=contacts,
                    contact_index=index,
                    tried=frozenset(contacts.index(c) for c in chosen),
                    now=now,
                )
            if chosen:
                paged.append(user.name)
        return paged

    # --- delivery -----------------------------------------------------------------------

    def _page(self, alert: AlertView) -> Page:
        expires_at = self._clock() + timedelta(seconds=self._settings.link_ttl_s)

        def url(action: LinkAction) -> str:
            claim = LinkClaim(action, alert.id, expires_at)
            return link_url(self._base_url, sign(self._secret, claim))

        return Page(alert.id, alert.title, alert.description, url("acknowledge"), url("close"))

    def _prepare(self, n: Notification, now: datetime) -> tuple[Page, str] | None:
        """The page to send and who it is for; None when the alert or a throttle stops it."""
        alert = self._alerts.alert(n.alert_id)
        if alert is None or alert.status != "open":
            self.alert_stopped(n.alert_id, f"alert {'deleted' if alert is None else alert.status}")
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

    async def _deliver(self, n: Notification, now: datetime) -> None:
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
        except (DeliveryError, TimeoutError) as exc:
            error = exc if isinstance(exc, DeliveryError) else DeliveryError("timed out")
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


def _redact(address: str) -> str:
    """An address fit for the timeline: the scheme and host of a URL, never its secrets."""
    if "://" not in address:
        return address
    scheme, _, rest = address.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…"
