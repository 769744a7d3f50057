"""The SQL of alerts and their timelines, and of recording inbound messages.

The inbound log's reads are `server.inbound.store`, integrations' SQL `server.integrations.store`.

Every method is synchronous and runs on the database thread (`DbThread.run`) or in the
offline CLI. Each write is one `BEGIN IMMEDIATE ... COMMIT`; with synchronous=FULL the commit
is on disk when the method returns. Inbound messages are written in groups
(`record_inbound_batch`: one commit for all; a savepoint per message only when one fails).
Methods that change an alert return the `AlertChange`s to publish once the caller holds the
committed result; `change_hooks` see them inside the transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from server.alerts.events import AlertChange, ChangeKind
from server.alerts.model import (
    Alert,
    ConflictError,
    InboundMessage,
    InboundOutcome,
    InboundResult,
    Integration,
    NotFoundError,
    TimelineEntry,
    alert_from_row,
    iso,
)
from server.db.engine import Database
from server.inbound.dedupe import Outcome, classify
from server.inbound.mapping import Decision
from server.inbound.store import InboundJob, InboundLogStore, filters

log = logging.getLogger("server.store")
_CHANGE_KINDS: dict[str, ChangeKind] = {
    "open": "open",
    "append": "append",
    "acknowledge": "acknowledge",
    "close": "close",
}

__all__ = [
    "Alert",
    "ConflictError",
    "InboundJob",
    "InboundMessage",
    "InboundOutcome",
    "InboundResult",
    "Integration",
    "NotFoundError",
    "Store",
    "TimelineEntry",
]


class Store(InboundLogStore):
    """Typed access to the inbound pipeline's tables over the one `Database`."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # Called with each AlertChange inside the transaction that makes it (database thread),
        # so what they write commits with the change or not at all (the MQTT queue does).
        self.change_hooks: list[Callable[[AlertChange], None]] = []

    # ---- inbound --------------------------------------------------------------------------

    def record_inbound(
        self,
        message: InboundMessage,
        decision: Decision,
        *,
        http_status: int = 202,
        suppressed: bool = False,
    ) -> InboundResult:
        """Act on one judged message and log it, in one durable transaction."""
        (result,) = self.record_inbound_batch(
            [InboundJob(message, decision, http_status, suppressed)]
        )
        if isinstance(result, Exception):
            raise result
        return result

    def record_inbound_batch(self, jobs: Sequence[InboundJob]) -> list[InboundResult | Exception]:
        """Group commit: every job in order in one transaction (a savepoint each), one COMMIT.

        Each job sees the jobs before it (dedupe, Idempotency-Key), exactly as if it had been
        committed alone. A job that fails is rolled back to its savepoint and its exception
        stands in its place. When the transaction itself is lost (COMMIT fails, or an I/O error
        made SQLite roll it back) this raises and none of the jobs is stored.

        The savepoints cost two statements a job, so a batch is first written without them;
        only when one of its jobs fails is it rolled back and written again with them.
        """
        if len(jobs) > 1:
            try:
                with self.transaction():
                    return [self._record(*job.parts()) for job in jobs]
            except Exception:
                log.debug("a job of a batch of %d failed: writing it job by job", len(jobs))
        results: list[InboundResult | Exception] = []
        with self.transaction():
            for job in jobs:
                try:
                    results.append(self._record_job(job))
                except Exception as exc:
                    if not self.db.in_transaction:
                        raise  # SQLite rolled the whole batch back: no job of it is stored
                    results.append(exc)
        return results

    def _record_job(self, job: InboundJob) -> InboundResult:
        try:
            return self._in_savepoint(job)
        except self.db.integrity_errors:
            # A unique index fired: the same Idempotency-Key was stored first (replay it), or
            # another writer opened this source's alert first (run again: it now appends).
            key = job.message.idempotency_key
            if key is not None:
                found = self.replay(job.message.integration_id, key)
                if found is not None:
                    return InboundResult(found, ())
            return self._in_savepoint(job)

    def _in_savepoint(self, job: InboundJob) -> InboundResult:
        self.db.execute("SAVEPOINT inbound")
        try:
            result = self._record(*job.parts())
        except BaseException:
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK TO inbound")
                    self.db.execute("RELEASE inbound")
                except self.db.errors:
                    self.db.execute("ROLLBACK")  # cannot undo just this job: lose the batch
            raise
        self.db.execute("RELEASE inbound")
        return result

    def _record(
        self, message: InboundMessage, decision: Decision, http_status: int, suppressed: bool
    ) -> InboundResult:
        """One message's changes inside the caller's transaction."""
        message_id = uuid.uuid4().hex
        now = message.received_at
        changes: list[AlertChange] = []
        if message.idempotency_key is not None:
            found = self.replay(message.integration_id, message.idempotency_key)
            if found is not None:
                return InboundResult(found, ())
        live = self._live_for(message.integration_id, decision)
        decided = classify(decision, None if live is None else live.id, suppressed=suppressed)
        status, action, reason = decided.status, decided.action, decided.reason
        alert_id: int | None = None
        alert_status, title = "open", decision.title  # what the alert is after this message
        priority = decision.priority if live is None else live.priority
        publish = decided.change in _CHANGE_KINDS
        if decided.change == "open":
            alert_id = self._open_alert(message, decision, message_id)
        elif live is not None and decided.change == "append":
            alert_id, alert_status, title = live.id, live.status, live.title
            self.db.execute(
                """UPDATE alerts SET append_count = append_count + 1, updated_at = ?
                   WHERE id = ?""",
                [iso(now), alert_id],
            )
        elif live is not None and decided.change == "close":
            alert_id, alert_status, title = live.id, "closed", live.title
            self.db.execute(
                """UPDATE alerts SET status = 'closed', closed_at = ?, updated_at = ?
                   WHERE id = ?""",
                [iso(now), iso(now), alert_id],
            )
        elif live is not None and decided.change in ("acknowledge", "note"):
            alert_id, alert_status, title = live.id, live.status, live.title
            publish = decided.change == "acknowledge" and live.status == "open"
            if publish:
                alert_status = "acknowledged"
                self.db.execute(
                    """UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?,
                       updated_at = ? WHERE id = ?""",
                    [iso(now), iso(now), alert_id],
                )
        if alert_id is not None:
            self._timeline(alert_id, now, decided.change, reason, message_id)
        # A note, or an acknowledge of an acknowledged alert, changes nothing to publish.
        if alert_id is not None and publish:
            kind = _CHANGE_KINDS[decided.change]
            source_name = decision.source_name or ""  # set whenever an alert changes
            changes.append(
                self._made(
                    AlertChange(
                        kind=kind,
                        alert_id=alert_id,
                        integration_id=message.integration_id,
                        source_name=source_name,
                        status=alert_status,
                        title=title,
                        at=now,
                        message_id=message_id,
                        priority=priority,
                    )
                )
            )
        self.db.execute(
            """INSERT INTO inbound_messages (message_id, integration_id, received_at, status,
               action, alert_id, source_name, source_id, reason, content_type, raw_body,
               body_truncated, idempotency_key, http_status)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [
                message_id,
                message.integration_id,
                iso(now),
                status,
                action,
                alert_id,
                decision.source_name,
                decision.source_id or None,
                reason,
                message.content_type[:200],
                message.raw_body,
                int(message.body_truncated),
                message.idempotency_key,
                http_status,
            ],
        )
        outcome = InboundOutcome(message_id, status, action, alert_id, reason, http_status)
        return InboundResult(outcome, tuple(changes))

    def preview(self, integration_id: int, decision: Decision, *, suppressed: bool) -> Outcome:
        """What `record_inbound` would do now, changing nothing (the test endpoint's dry run)."""
        live = self._live_for(integration_id, decision)
        return classify(decision, None if live is None else live.id, suppressed=suppressed)

    def _live_for(self, integration_id: int, decision: Decision) -> Alert | None:
        if decision.verdict in ("ignore", "filtered", "failed") or decision.source_name is None:
            return None
        return self._live_alert(integration_id, decision.source_name, decision.source_id)

    def live_alert(
        self, integration_id: int, source_name: str, source_id: str = ""
    ) -> Alert | None:
        """The open or acknowledged alert of this source, if any."""
        return self._live_alert(integration_id, source_name, source_id)

    def _live_alert(self, integration_id: int, source_name: str, source_id: str) -> Alert | None:
        row = self._one(
            """SELECT * FROM alerts WHERE integration_id = ? AND source_name = ?
               AND source_id = ? AND status IN ('open', 'acknowledged')""",
            [integration_id, source_name, source_id],
        )
        return None if row is None else alert_from_row(row)

    def _open_alert(self, message: InboundMessage, decision: Decision, message_id: str) -> int:
        assert decision.source_name is not None
        cursor = self.db.execute(
            """INSERT INTO alerts (integration_id, source_name, source_id, status, title,
               description, opened_at, updated_at, priority) VALUES (?,?,?,'open',?,?,?,?,?)
               RETURNING id""",
            [
                message.integration_id,
                decision.source_name,
                decision.source_id,
                decision.title,
                decision.description,
                iso(message.received_at),
                iso(message.received_at),
                decision.priority,
            ],
        )
        alert_id = int(cursor.fetchone()[0])
        if decision.drill:
            self.db.execute("UPDATE alerts SET drill = 1 WHERE id = ?", [alert_id])
        return alert_id

    def add_timeline(self, alert_id: int, at: datetime, kind: str, detail: str) -> None:
        """Append one entry to an alert's timeline (escalation's and the responders' notes)."""
        self._timeline(alert_id, at, kind, detail, None)

    def _timeline(
        self, alert_id: int, at: datetime, kind: str, detail: str, message_id: str | None
    ) -> None:
        self.db.execute(
            "INSERT INTO alert_events (alert_id, at, kind, detail, message_id) VALUES (?,?,?,?,?)",
            [alert_id, iso(at), kind, detail, message_id],
        )

    def _made(self, change: AlertChange) -> AlertChange:
        """Run the change hooks in the current transaction; a failing hook is logged, not fatal.

        Unless the failure rolled the transaction back: then the change is not made either.
        """
        for hook in self.change_hooks:
            try:
                hook(change)
            except Exception:
                if not self.db.in_transaction:
                    raise
                log.exception("change hook %r failed on alert %d", hook, change.alert_id)
        return change

    def _change(
        self, alert_id: int, kind: ChangeKind, at: datetime, message_id: str | None
    ) -> AlertChange:
        alert = self.get_alert(alert_id)
        return AlertChange(
            kind=kind,
            alert_id=alert.id,
            integration_id=alert.integration_id,
            source_name=alert.source_name,
            status=alert.status,
            title=alert.title,
            at=at,
            message_id=message_id,
            priority=alert.priority,
        )

    # ---- alerts ---------------------------------------------------------------------------

    def get_alert(self, alert_id: int) -> Alert:
        row = self._one("SELECT * FROM alerts WHERE id = ?", [alert_id])
        if row is None:
            raise NotFoundError(f"alert {alert_id} does not exist")
        return alert_from_row(row)

    def list_alerts(
        self, *, status: str | None = None, integration_id: int | None = None, limit: int = 100
    ) -> list[Alert]:
        """Newest first."""
        where, params = filters(integration_id=integration_id, status=status)
        rows = self.db.query(
            f"SELECT * FROM alerts {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [alert_from_row(r) for r in rows]

    def timeline(self, alert_id: int) -> list[TimelineEntry]:
        rows = self.db.query(
            "SELECT at, kind, detail, message_id FROM alert_events WHERE alert_id = ? ORDER BY id",
            [alert_id],
        )
        return [
            TimelineEntry(datetime.fromisoformat(r["at"]), r["kind"], r["detail"], r["message_id"])
            for r in rows
        ]

    def alert_counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, COUNT(*) AS n FROM alerts GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

    def acknowledge_alert(self, alert_id: int, now: datetime, by: str = "admin") -> AlertChange:
        """Open → acknowledged; it stays matched (repeats append, the close message closes)."""
        with self.transaction():
            alert = self.get_alert(alert_id)
            if alert.status != "open":
                raise ConflictError(
                    f"alert {alert_id} is {alert.status}, only an open alert can be acknowledged"
                )
            self.db.execute(
                """UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, updated_at = ?
                   WHERE id = ?""",
                [iso(now), iso(now), alert_id],
            )
            self._timeline(alert_id, now, "acknowledge", f"acknowledged by {by}", None)
            return self._made(self._change(alert_id, "acknowledge", now, None))

    def reopen_alert(self, alert_id: int, now: datetime, detail: str) -> AlertChange | None:
        """Acknowledged → open again (timeline `ack_timeout`); None if no longer acknowledged."""
        with self.transaction():
            cursor = self.db.execute(
                """UPDATE alerts SET status = 'open', acknowledged_at = NULL, updated_at = ?
                   WHERE id = ? AND status = 'acknowledged'""",
                [iso(now), alert_id],
            )
            if not cursor.rowcount:
                return None
            self._timeline(alert_id, now, "ack_timeout", detail, None)
            return self._made(self._change(alert_id, "reopen", now, None))

    def close_alert(self, alert_id: int, now: datetime, by: str = "admin") -> AlertChange:
        """Open or acknowledged → closed."""
        with self.transaction():
            alert = self.get_alert(alert_id)
            if alert.status == "closed":
                raise ConflictError(f"alert {alert_id} is already closed")
            self.db.execute(
                "UPDATE alerts SET status = 'closed', closed_at = ?, updated_at = ? WHERE id = ?",
                [iso(now), iso(now), alert_id],
            )
            self._timeline(alert_id, now, "close", f"closed by {by}", None)
            return self._made(self._change(alert_id, "close", now, None))
