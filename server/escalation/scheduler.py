"""Drives escalations with an injected clock; all state lives in the database.

A step is claimed (state advanced, pages queued) in one transaction, so a restart neither
loses nor repeats a step. Queued pages are handed to `server.escalation.paging`, one task each.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from edgecommon.sdnotify import Heartbeat
from server.db.engine import Database
from server.escalation.machine import (
    Idle,
    Policy,
    RunStep,
    finish,
    next_action,
    resolve_targets,
    start,
    step_ran,
    stop,
)
from server.escalation.paging import AlertBook, Clock, DbRunner, Delivery, EscalationSettings
from server.escalation.state_store import EscalationStore
from server.notify.base import Channel
from server.notify.contacts import contacts_of, select

log = logging.getLogger("server.scheduler")

# An idle loop still comes round this often, so the watchdog can tell idle from wedged.
IDLE_BEAT_S = 5.0
# A page still in flight this long after its send timeout is stuck (the timeout did not fire).
STUCK_GRACE_S = 30.0
# How often open alerts nobody escalates are looked for, and how old they must be by then (the
# server that stored one escalates it within moments unless it died).
RECOVER_EVERY_S = 30.0
RECOVER_MIN_AGE_S = 10.0


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
        heartbeat: Heartbeat | None = None,
        delivery_heartbeat: Heartbeat | None = None,
    ) -> None:
        self.heartbeat = heartbeat or Heartbeat("escalation-scheduler")
        self.delivery_heartbeat = delivery_heartbeat or Heartbeat("page-delivery")
        self._store = store
        self._alerts = alerts
        self._clock = clock
        self._db = db
        self._settings = settings
        self._delivery = Delivery(
            store,
            alerts,
            channels,
            clock,
            db,
            link_secret=link_secret,
            public_base_url=public_base_url,
            settings=settings,
            stop_alert=self.alert_stopped,
            on_outcome=on_outcome,
        )
        self._wake = asyncio.Event()
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._started_s: dict[int, float] = {}
        self.ticks = 0

    def reconfigure(self, settings: EscalationSettings, public_base_url: str) -> None:
        """Use new `[escalation]` settings and link base URL from the next tick and page on."""
        self._settings = settings
        self._delivery.reconfigure(settings, public_base_url)

    def alert_opened(
        self, alert_id: int, policy_id: int | None, opened_at: datetime | None = None
    ) -> None:
        """Start escalating a newly opened alert (once: a second call changes nothing)."""
        now = self._clock()
        if policy_id is None:  # the integration pages nobody: nothing to record
            log.debug("alert %s: integration has no escalation policy", alert_id)
            return
        since = now if opened_at is None else min(opened_at, now)
        stored = self._store.policy(policy_id)
        with self._store.transaction() as db:
            if self._store.escalation(alert_id) is not None:
                return
            if stored is None:
                state = start(alert_id, policy_id, Policy(()), since)
                state = replace(state, reason=f"escalation policy {policy_id} not found")
                kind, detail = "escalation_none", state.reason or ""
            else:
                state = start(alert_id, policy_id, stored.policy, since)
                kind, detail = "escalation_started", f"policy {stored.name!r} (#{policy_id})"
            if not self._store.start_escalation(db, state, now):
                return  # started meanwhile (another server sharing the database)
        self._alerts.add_timeline(alert_id, now, kind, detail)

    def recover(self, min_age_s: float = 0.0) -> int:
        """Start escalations for open alerts whose open event was lost (a crash right after it).

        At start, and every `RECOVER_EVERY_S` for alerts open at least `min_age_s`: on a shared
        database the server that stored an alert may have died before escalating it.
        """
        oldest = self._clock() - timedelta(seconds=min_age_s)
        missed = [m for m in self._alerts.unescalated() if m[2] <= oldest]
        for alert_id, policy_id, opened_at in missed:
            log.warning(
                "alert %s: open event was not handled before a restart; escalating", alert_id
            )
            self.alert_opened(alert_id, policy_id, opened_at)
        return len(missed)

    def alert_reopened(self, alert_id: int, policy_id: int | None) -> None:
        """Escalate an alert open again (its acknowledgement timed out) from the first step."""
        with self._store.transaction() as db:
            self._store.forget_escalation(db, alert_id)
        self.alert_opened(alert_id, policy_id)

    def alert_stopped(self, alert_id: int, reason: str) -> None:
        """Stop escalating (acknowledged or closed) and cancel pages not yet sent."""
        if not self._store.has_work(alert_id):
            return  # no write transaction for the common case: an alert nobody is paged for
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
        """Recover missed opens, then tick until cancelled; a failing tick is logged."""
        await self._db(self.recover)
        recovered_s = time.monotonic()
        try:
            while True:
                self.heartbeat.beat()
                if time.monotonic() - recovered_s >= RECOVER_EVERY_S:
                    recovered_s = time.monotonic()
                    try:
                        await self._db(lambda: self.recover(RECOVER_MIN_AGE_S))
                    except Exception:
                        log.exception("escalation: looking for unescalated alerts failed")
                try:
                    await self.tick()
                except Exception:
                    log.exception("escalation tick failed")
                self._check_deliveries()
                self._wake.clear()
                # Not asyncio.wait_for: on 3.11 it swallows a cancel that lands as the event
                # is set, and this task would then never stop. Wake at least every
                # IDLE_BEAT_S so an idle loop still beats the watchdog.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(self._settings.tick_s, IDLE_BEAT_S)):
                        await self._wake.wait()
        finally:
            for task in list(self._sending.values()):
                task.cancel()

    async def tick(self) -> None:
        """Run every step that is due, then start delivering every page that is due."""
        now = self._clock()
        due_steps = await self._db(lambda: self._store.due_escalations(now))
        for state in due_steps:
            await self._db(functools.partial(self._run_step, state.alert_id, now))
        lease_s = self._settings.send_timeout_s + STUCK_GRACE_S
        due_pages = await self._db(lambda: self._store.claim_notifications(now, lease_s))
        for n in due_pages:
            if n.id not in self._sending:
                task = asyncio.create_task(self._delivery.deliver(n, now), name=f"page-{n.id}")
                self._sending[n.id] = task
                self._started_s[n.id] = time.monotonic()
                task.add_done_callback(functools.partial(self._sent, n.id))
        self.ticks += 1

    def _check_deliveries(self) -> None:
        """Beat the page-delivery heartbeat unless a page outlived its send timeout (stuck)."""
        limit_s = self._settings.send_timeout_s + STUCK_GRACE_S
        now_s = time.monotonic()
        if all(now_s - started_s <= limit_s for started_s in self._started_s.values()):
            self.delivery_heartbeat.beat()

    def _sent(self, notification_id: int, task: asyncio.Task[None]) -> None:
        self._sending.pop(notification_id, None)
        self._started_s.pop(notification_id, None)
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
            state = self._store.claim_due(db, alert_id, now)
            if state is None:
                return  # not due after all: another server ran this step, or is running it
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
            elif isinstance(action, Idle) and state.status == "active":
                # The policy was edited down to fewer steps than this escalation had reached.
                self._store.save_escalation(db, finish(state, action.reason or "done"), now)
                timeline.append(("escalation_finished", action.reason or ""))
        for kind, detail in timeline:
            self._alerts.add_timeline(alert_id, now, kind, detail)

    def _queue_step(self, db: Database, alert_id: int, action: RunStep, now: datetime) -> list[str]:
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
