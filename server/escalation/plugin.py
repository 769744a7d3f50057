"""Wires escalation into the server: config, store, channels, the scheduler task, AlertChange."""

from __future__ import annotations

import logging
from dataclasses import replace

from fastapi import FastAPI

from server.alerts.events import AlertChange
from server.alerts.store import NotFoundError
from server.config import Config, EscalationSection, SmtpSection
from server.context import AppContext
from server.escalation.api import links, people
from server.escalation.deps import EscalationRuntime, link_secret, public_base_url
from server.escalation.paging import Clock, EscalationSettings
from server.escalation.scheduler import Scheduler
from server.escalation.state_store import AlertsTable, EscalationStore
from server.notify.apprise_channel import AppriseChannel
from server.notify.base import Channel
from server.notify.email import EmailChannel, SmtpSettings
from server.responder import trial_page
from server.responder.ack_timeout import reopen_forever
from server.responder.word_back import WordBack

log = logging.getLogger("server.escalation_runtime")


def settings_of(section: EscalationSection) -> EscalationSettings:
    """The scheduler's settings from `[escalation]`."""
    return EscalationSettings(
        tick_s=section.tick_s,
        retry_base_s=section.retry_base_s,
        retry_max_s=section.retry_max_s,
        max_attempts=section.max_attempts,
        throttle_max=section.throttle_max,
        throttle_window_s=section.throttle_window_s,
        link_ttl_s=section.link_ttl_s,
        send_timeout_s=section.send_timeout_s,
    )


def smtp_settings(section: SmtpSection) -> SmtpSettings:
    """The email channel's settings from `[smtp]`."""
    return SmtpSettings(
        host=section.host,
        port=section.port,
        from_addr=section.from_addr,
        username=section.username,
        password=section.password,
        starttls=section.starttls,
        ssl=section.ssl,
        timeout_s=section.timeout_s,
    )


def escalation_plugin(app: FastAPI, ctx: AppContext, *, clock: Clock | None = None) -> None:
    """People API, signed links, the escalation scheduler task and its AlertChange subscription.

    `clock` is where escalation reads "now" (steps, retries, links, ack timeouts); by default
    the app's clock.
    """
    section = ctx.config.section("escalation", EscalationSection)
    store = EscalationStore(ctx.store.db)
    alerts = AlertsTable(ctx.store, store)
    if clock is None:
        clock = ctx.clock
    email = EmailChannel(smtp_settings(ctx.config.section("smtp", SmtpSection)))
    channels: dict[str, Channel] = {"email": email, "apprise": AppriseChannel()}
    base_url = public_base_url(ctx.config)
    secret = link_secret(ctx.config, section)
    ctx.metrics.counter(
        "alert_server_notifications_total",
        "Delivery attempts by outcome (sent, retrying, gave_up) and contact kind.",
    )

    def count(outcome: str, kind: str) -> None:
        ctx.metrics.inc("alert_server_notifications_total", outcome=outcome, kind=kind)

    scheduler = Scheduler(
        store,
        alerts,
        channels,
        clock,
        ctx.db.run,
        link_secret=secret,
        public_base_url=base_url,
        settings=settings_of(section),
        on_outcome=count,
    )

    def policy_ids(integration_id: int) -> tuple[int | None, int | None]:
        """The integration's policy, and the one for its urgent alerts."""
        try:
            found = ctx.store.get_integration(integration_id)
        except NotFoundError:
            return None, None
        return found.escalation_policy_id, found.urgent_policy_id or found.escalation_policy_id

    def apply(changes: list[AlertChange]) -> bool:
        """Start or stop escalations for committed changes (database thread); True if started."""
        started = False
        policies: dict[int, tuple[int | None, int | None]] = {}  # read once a burst
        for change in changes:
            try:
                if change.kind in ("open", "reopen"):
                    if change.integration_id not in policies:
                        policies[change.integration_id] = policy_ids(change.integration_id)
                    normal, urgent = policies[change.integration_id]
                    policy = urgent if change.priority == "urgent" else normal
                    if change.kind == "reopen":
                        scheduler.alert_reopened(change.alert_id, policy)
                        started = True
                    elif policy is not None:
                        scheduler.alert_opened(change.alert_id, policy)
                        started = True
                elif change.kind == "acknowledge":
                    scheduler.alert_stopped(change.alert_id, "acknowledged")
                elif change.kind == "close":
                    scheduler.alert_stopped(change.alert_id, "closed")
                # "append" (a repeat press of an open alert) never pages again.
            except Exception:
                log.exception("escalation: %s of alert %d failed", change.kind, change.alert_id)
        return started

    async def on_changes(changes: list[AlertChange]) -> None:
        if await ctx.db.run(apply, changes):
            scheduler.wake()

    ctx.events.subscribe_batch("escalation", on_changes)
    told = WordBack(ctx, store, alerts, channels, clock, section.send_timeout_s)
    ctx.events.subscribe("word-back", told.on_change)
    ctx.add_task("escalation-scheduler", scheduler.run)
    ctx.add_task("ack-timeouts", lambda: reopen_forever(ctx, clock, section.tick_s))
    ctx.heartbeats.extend([scheduler.heartbeat, scheduler.delivery_heartbeat])
    ctx.provide(
        EscalationRuntime(
            store, scheduler, clock, secret, base_url, channels, section.send_timeout_s
        )
    )

    def reconfigure(config: Config) -> None:
        """After a reload: new `[escalation]` pacing, `[smtp]` settings and link base URL."""
        url = public_base_url(config)
        scheduler.reconfigure(settings_of(config.section("escalation", EscalationSection)), url)
        email.reconfigure(smtp_settings(config.section("smtp", SmtpSection)))
        ctx.provide(replace(ctx.part(EscalationRuntime), public_base_url=url))

    ctx.reload_hooks.append(reconfigure)
    app.include_router(people.router)
    app.include_router(links.router)
    app.include_router(trial_page.router)
