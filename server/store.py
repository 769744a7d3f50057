"""The only SQL for integrations, the inbound log, alerts and their timelines.

Every method is synchronous and runs on the database thread (`DbThread.run`) or in the
offline CLI (only `cached_integration` may run anywhere). Each write is one
`BEGIN IMMEDIATE ... COMMIT`; with synchronous=FULL the commit is on disk when the method
returns. Inbound messages are written in groups (`record_inbound_batch`: one savepoint per
message, one commit for all). Methods that change an alert return the `AlertChange`s to
publish once the caller holds the committed result.
"""

from __future__ import annotations

import hmac
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from server.database import write_transaction
from server.events import AlertChange, ChangeKind
from server.mapping import Decision
from server.models import (
    Alert,
    ConflictError,
    InboundMessage,
    InboundOutcome,
    InboundResult,
    Integration,
    NotFoundError,
    TimelineEntry,
    alert_from_row,
    integration_from_row,
    iso,
    new_token,
    token_hash,
)
from server.policy import Outcome, classify

log = logging.getLogger(__name__)
_CHANGE_KINDS: dict[str, ChangeKind] = {"open": "open", "append": "append", "close": "close"}

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


# Whether an integration is in a maintenance window at an instant (runs on the database thread).
WindowCheck = Callable[[int, datetime], bool]


@dataclass(frozen=True, slots=True)
class InboundJob:
    """One judged message to record: what arrived, what the mapping made of it, its answer.

    `window_checks` run inside the batch (no extra database round trip per message).
    """

    message: InboundMessage
    decision: Decision
    http_status: int = 202
    suppressed: bool = False
    window_checks: tuple[WindowCheck, ...] = ()

    def parts(self) -> tuple[InboundMessage, Decision, int, bool]:
        """`_record`'s arguments: message, decision, HTTP status, suppressed (windows asked)."""
        message = self.message
        suppressed = self.suppressed or any(
            check(message.integration_id, message.received_at) for check in self.window_checks
        )
        return message, self.decision, self.http_status, suppressed


class Store:
    """Typed access to the inbound pipeline's tables over one sqlite-utils Database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        # token_hash -> live integration, filled and emptied only on the database thread.
        self._by_token: dict[str, Integration] = {}
        # Called with each AlertChange inside the transaction that makes it (database thread),
        # so what they write commits with the change or not at all (the MQTT queue does).
        self.change_hooks: list[Callable[[AlertChange], None]] = []

    def close(self) -> None:
        self.db.conn.close()

    def transaction(self) -> AbstractContextManager[None]:
        """One durable write transaction (BEGIN IMMEDIATE ... COMMIT)."""
        return write_transaction(self.db)

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        try:
            return next(iter(self.db.query(sql, params)), None)
        except OverflowError:
            return None  # an id beyond SQLite's 64-bit range names no row (404, not 500)

    # ---- integrations ---------------------------------------------------------------------

    def create_integration(
        self,
        *,
        name: str,
        kind: str,
        mapping: dict[str, Any],
        now: datetime,
        sample_data: Any = None,
        escalation_policy_id: int | None = None,
    ) -> Integration:
        token = new_token()
        with self.transaction():
            cursor = self.db.execute(
                """INSERT INTO integrations (name, kind, token, token_hash, mapping, sample_data,
                   escalation_policy_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)""",
                [
                    name,
                    kind,
                    token,
                    token_hash(token),
                    json.dumps(mapping),
                    None if sample_data is None else json.dumps(sample_data),
                    escalation_policy_id,
                    iso(now),
                    iso(now),
                ],
            )
        return self.get_integration(int(cursor.lastrowid or 0))

    def get_integration(self, integration_id: int) -> Integration:
        row = self._one(
            "SELECT * FROM integrations WHERE id = ? AND deleted_at IS NULL", [integration_id]
        )
        if row is None:
            raise NotFoundError(f"integration {integration_id} does not exist")
        return integration_from_row(row)

    def list_integrations(self) -> list[Integration]:
        rows = self.db.query("SELECT * FROM integrations WHERE deleted_at IS NULL ORDER BY id")
        return [integration_from_row(r) for r in rows]

    def find_integration_by_token(self, token: str) -> Integration | None:
        """The live integration whose token this is; compared in constant time (then cached)."""
        hashed = token_hash(token)
        row = self._one(
            "SELECT * FROM integrations WHERE token_hash = ? AND deleted_at IS NULL", [hashed]
        )
        if row is None or not _same_token(str(row["token"]), token):
            return None
        integration = integration_from_row(row)
        self._by_token[hashed] = integration
        return integration

    def cached_integration(self, token: str) -> Integration | None:
        """`find_integration_by_token` without SQL when it was looked up before (any thread).

        None means "not cached", not "unknown": ask `find_integration_by_token` then. Every
        change of an integration drops it from the cache before it is written.
        """
        found = self._by_token.get(token_hash(token))
        if found is None or not _same_token(found.token, token):
            return None
        return found

    def _forget(self, integration_id: int) -> None:
        for key, integration in list(self._by_token.items()):
            if integration.id == integration_id:
                self._by_token.pop(key, None)

    def update_integration(
        self, integration_id: int, changes: dict[str, Any], now: datetime
    ) -> Integration:
        """Set some of name, mapping, sample_data, escalation_policy_id, maintenance_until."""
        allowed = {"name", "mapping", "sample_data", "escalation_policy_id", "maintenance_until"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("mapping", "sample_data"):
                value = None if value is None else json.dumps(value)
            elif key == "maintenance_until":
                value = None if value is None else iso(value)
            values[key] = value
        values["updated_at"] = iso(now)
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        self._forget(integration_id)
        with self.transaction():
            self.get_integration(integration_id)
            self.db.execute(
                f"UPDATE integrations SET {assignments} WHERE id = :id",
                {**values, "id": integration_id},
            )
        return self.get_integration(integration_id)

    def rotate_token(self, integration_id: int, now: datetime) -> Integration:
        """A new token; the old one answers 404 from now on."""
        token = new_token()
        self._forget(integration_id)
        with self.transaction():
            self.get_integration(integration_id)
            self.db.execute(
                "UPDATE integrations SET token = ?, token_hash = ?, updated_at = ? WHERE id = ?",
                [token, token_hash(token), iso(now), integration_id],
            )
        return self.get_integration(integration_id)

    def delete_integration(self, integration_id: int, now: datetime) -> None:
        """Retire it: its token stops working; its log and alerts stay readable."""
        self._forget(integration_id)
        with self.transaction():
            self.get_integration(integration_id)
            self.db.execute(
                "UPDATE integrations SET deleted_at = ?, token_hash = ? WHERE id = ?",
                [iso(now), f"deleted:{integration_id}:{uuid.uuid4().hex}", integration_id],
            )

    # ---- inbound --------------------------------------------------------------------------

    def replay(self, integration_id: int, key: str) -> InboundOutcome | None:
        """The stored answer for an Idempotency-Key already seen on this integration."""
        row = self._one(
            """SELECT message_id, status, action, alert_id, reason, http_status
               FROM inbound_messages WHERE integration_id = ? AND idempotency_key = ?""",
            [integration_id, key],
        )
        if row is None:
            return None
        return InboundOutcome(
            row["message_id"],
            row["status"],
            row["action"],
            row["alert_id"],
            row["reason"],
            row["http_status"],
            replayed=True,
        )

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
                    if not self.db.conn.in_transaction:
                        raise  # SQLite rolled the whole batch back: no job of it is stored
                    results.append(exc)
        return results

    def _record_job(self, job: InboundJob) -> InboundResult:
        try:
            return self._in_savepoint(job)
        except sqlite3.IntegrityError:
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
            if self.db.conn.in_transaction:
                try:
                    self.db.execute("ROLLBACK TO inbound")
                    self.db.execute("RELEASE inbound")
                except sqlite3.Error:
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
        if alert_id is not None:
            kind = _CHANGE_KINDS[decided.change]
            self._timeline(alert_id, now, kind, reason, message_id)
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
        if decision.verdict not in ("open", "close") or decision.source_name is None:
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
               description, opened_at, updated_at) VALUES (?,?,?,'open',?,?,?,?)""",
            [
                message.integration_id,
                decision.source_name,
                decision.source_id,
                decision.title,
                decision.description,
                iso(message.received_at),
                iso(message.received_at),
            ],
        )
        return int(cursor.lastrowid or 0)

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
                if not self.db.conn.in_transaction:
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
        )

    def list_inbound(
        self,
        *,
        integration_id: int | None = None,
        status: str | None = None,
        alert_id: int | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first, without raw bodies; `before` (a message id) pages back."""
        where, params = _filters(integration_id=integration_id, status=status, alert_id=alert_id)
        if before is not None:
            where += " AND " if where else "WHERE "
            where += "seq < (SELECT seq FROM inbound_messages WHERE message_id = ?)"
            params.append(before)
        rows = self.db.query(
            f"""SELECT message_id, integration_id, received_at, status, action, alert_id,
                source_name, source_id, reason, content_type, http_status, idempotency_key
                FROM inbound_messages {where} ORDER BY seq DESC LIMIT ?""",
            [*params, limit],
        )
        return [_with_datetime(r) for r in rows]

    def get_inbound(self, message_id: str) -> dict[str, Any]:
        """One logged message including `raw_body` (bytes) and `body_truncated`."""
        row = self._one(
            """SELECT message_id, integration_id, received_at, status, action, alert_id,
               source_name, source_id, reason, content_type, http_status, idempotency_key,
               raw_body, body_truncated FROM inbound_messages WHERE message_id = ?""",
            [message_id],
        )
        if row is None:
            raise NotFoundError(f"inbound message {message_id} does not exist")
        return _with_datetime(row)

    def purge_inbound(self, older_than: datetime) -> int:
        """Delete inbound log rows received before `older_than`; returns how many."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM inbound_messages WHERE received_at < ?", [iso(older_than)]
            )
        return int(cursor.rowcount)

    def inbound_counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, COUNT(*) AS n FROM inbound_messages GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

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
        where, params = _filters(integration_id=integration_id, status=status)
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


def _same_token(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode("utf-8", "surrogatepass"))


def _filters(**values: Any) -> tuple[str, list[Any]]:
    parts = [f"{k} = ?" for k, v in values.items() if v is not None]
    params = [v for v in values.values() if v is not None]
    return ("WHERE " + " AND ".join(parts) if parts else ""), params


def _with_datetime(row: dict[str, Any]) -> dict[str, Any]:
    row["received_at"] = datetime.fromisoformat(row["received_at"])
    return row
