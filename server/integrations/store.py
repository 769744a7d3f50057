"""The SQL of integrations: create, change, rotate, delete, and find one by its token.

Every method is synchronous and runs on the database thread (`DbThread.run`) or in the
offline CLI (only `cached_integration` may run anywhere). Each write is one
`BEGIN IMMEDIATE ... COMMIT`. `server.store.Store` builds on this class.
"""

from __future__ import annotations

import hmac
import json
import uuid
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from server.alerts.model import (
    Integration,
    NotFoundError,
    integration_from_row,
    iso,
    new_token,
    token_hash,
)
from server.db.engine import Database


class IntegrationStore:
    """The database connection, its write transactions, and the integrations table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # token_hash -> live integration, filled and emptied only on the database thread.
        self._by_token: dict[str, Integration] = {}

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[None]:
        """One durable write transaction (BEGIN IMMEDIATE ... COMMIT)."""
        return self.db.transaction()

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
        urgent_policy_id: int | None = None,
        close_from_source_only: bool = False,
    ) -> Integration:
        token = new_token()
        with self.transaction():
            cursor = self.db.execute(
                """INSERT INTO integrations (name, kind, token, token_hash, mapping, sample_data,
                   escalation_policy_id, created_at, updated_at, urgent_policy_id,
                   close_from_source_only) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id""",
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
                    urgent_policy_id,
                    int(close_from_source_only),
                ],
            )
            new_id = int(cursor.fetchone()[0])
        return self.get_integration(new_id)

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
        change of an integration drops it from the cache before it is written. On a shared
        database (PostgreSQL) another server may change it, so nothing is cached there.
        """
        if self.db.dialect != "sqlite":
            return None
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
        allowed = {
            "name",
            "mapping",
            "sample_data",
            "escalation_policy_id",
            "urgent_policy_id",
            "close_from_source_only",
            "maintenance_until",
        }
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


def _same_token(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode("utf-8", "surrogatepass"))
