"""The SQL of the inbound log's reads and purge, and the job the writer hands `Store`.

Recording a message opens or updates alerts too, so that write is `server.alerts.store.Store`
(which extends this class); everything here runs on the database thread like it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.alerts.model import InboundMessage, InboundOutcome, NotFoundError, iso
from server.inbound.mapping import Decision
from server.integrations.store import IntegrationStore

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


class InboundLogStore(IntegrationStore):
    """The inbound log's reads (newest first, one message, counts) and its purge."""

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
        where, params = filters(integration_id=integration_id, status=status, alert_id=alert_id)
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


def filters(**values: Any) -> tuple[str, list[Any]]:
    parts = [f"{k} = ?" for k, v in values.items() if v is not None]
    params = [v for v in values.values() if v is not None]
    return ("WHERE " + " AND ".join(parts) if parts else ""), params


def _with_datetime(row: dict[str, Any]) -> dict[str, Any]:
    row["received_at"] = datetime.fromisoformat(row["received_at"])
    return row
