"""Console sessions: an opaque cookie naming a stored session that carries a CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request
from starlette.datastructures import FormData

from server.alerts.model import iso
from server.db.engine import Database
from server.db.migrate import Migration, sql_step
from server.errors import AlertServerError

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
CSRF_FIELD = "csrf_token"
SESSION_TTL_S = 12 * 3600
MAX_SESSIONS = 1000
LOGIN_FAILURES_LIMIT = 10
LOGIN_FAILURES_WINDOW_S = 60.0
# A user's password, guessed from many addresses: at most this many failures per 5 minutes.
ACCOUNT_FAILURES_LIMIT = 20
ACCOUNT_FAILURES_WINDOW_S = 300.0
MAX_THROTTLE_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class Session:
    """One logged-in browser."""

    session_id: str
    who: str
    user_id: int | None
    csrf_token: str
    created_at: datetime
    expires_at: datetime


CONSOLE_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        401,
        "console_sessions",
        """CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            who TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL)""",
        "CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)",
    ),
)


def _id_hash(session_id: str) -> str:
    """What the database keeps of a session id: a copy of the database opens no session."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore:
    """Console sessions in the database: a restart keeps everyone logged in until expiry.

    Call its methods on the database thread (`ctx.db.run`). Deleting a user ends their
    sessions (the foreign key cascades).
    """

    def __init__(self, db: Database, ttl_s: float = SESSION_TTL_S) -> None:
        self._db = db
        self.ttl_s = ttl_s

    def create(self, who: str, now: datetime, user_id: int | None = None) -> Session:
        session = Session(
            session_id=secrets.token_urlsafe(32),
            who=who,
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=self.ttl_s),
        )
        with self._db.transaction():
            self._db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", [iso(now)])
            self._db.execute(
                """DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash
                   FROM console_sessions ORDER BY created_at DESC LIMIT -1 OFFSET ?)""",
                [MAX_SESSIONS - 1],
            )
            self._db.execute(
                """INSERT INTO console_sessions (id_hash, who, user_id, csrf_token, created_at,
                   expires_at) VALUES (?,?,?,?,?,?)""",
                [
                    _id_hash(session.session_id),
                    who,
                    user_id,
                    session.csrf_token,
                    iso(now),
                    iso(session.expires_at),
                ],
            )
        return session

    def find(self, session_id: str | None, now: datetime) -> Session | None:
        """The live session of this cookie value, or None (unknown, ended or expired)."""
        if not session_id:
            return None
        row = self._db.execute(
            """SELECT who, user_id, csrf_token, created_at, expires_at FROM console_sessions
               WHERE id_hash = ? AND expires_at > ?""",
            [_id_hash(session_id), iso(now)],
        ).fetchone()
        if row is None:
            return None
        who, user_id, csrf_token, created_at, expires_at = row
        return Session(
            session_id,
            who,
            user_id,
            csrf_token,
            datetime.fromisoformat(created_at),
            datetime.fromisoformat(expires_at),
        )

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._db.transaction():
                self._db.execute(
                    "DELETE FROM console_sessions WHERE id_hash = ?", [_id_hash(session_id)]
                )

    def end_for_user(self, user_id: int) -> int:
        """End every session of a user (one statement: call inside a transaction or not)."""
        cursor = self._db.execute("DELETE FROM console_sessions WHERE user_id = ?", [user_id])
        return cursor.rowcount

    def count(self, now: datetime) -> int:
        """Live sessions."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM console_sessions WHERE expires_at > ?", [iso(now)]
        ).fetchone()
        return int(row[0])


@dataclass(slots=True)
class LoginThrottle:
    """At most `limit` failed logins per `window_s` per key (a client address, or an account)."""

    limit: int = LOGIN_FAILURES_LIMIT
    window_s: float = LOGIN_FAILURES_WINDOW_S
    _failures: dict[str, list[datetime]] = field(default_factory=dict)

    def blocked_for_s(self, key: str, now: datetime) -> float:
        """Seconds until `key` may try again (0 when allowed now)."""
        cutoff = now - timedelta(seconds=self.window_s)
        kept = [at for at in self._failures.get(key, ()) if at > cutoff]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        if len(kept) < self.limit:
            return 0.0
        return (kept[0] - cutoff).total_seconds()

    def failed(self, key: str, now: datetime) -> None:
        if key not in self._failures and len(self._failures) >= MAX_THROTTLE_KEYS:
            self._forget_oldest()
        self._failures.setdefault(key, []).append(now)

    def attempt(self, key: str, now: datetime) -> float:
        """Count an attempt as failed before it is checked (0 s: go on), else the wait.

        Counting first means guesses sent all at once are refused beyond the limit, not
        all checked while none has failed yet; `succeeded` takes a good one back.
        """
        wait_s = self.blocked_for_s(key, now)
        if wait_s == 0.0:
            self.failed(key, now)
        return wait_s

    def succeeded(self, key: str, at: datetime) -> None:
        """Take back the attempt counted at `at`: it was right."""
        kept = self._failures.get(key)
        if kept and at in kept:
            kept.remove(at)

    def _forget_oldest(self) -> None:
        oldest = min(self._failures, key=lambda k: self._failures[k][-1])
        del self._failures[oldest]


class LoginRequiredError(AlertServerError):
    """No valid session: the handler answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ConsoleError(AlertServerError):
    """A console request that cannot be served: shown as an HTML page with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token; an empty expected token matches nothing."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def check_csrf(form: FormData, request: Request, session: Session) -> None:
    """403 unless the form (or the X-CSRF-Token header) carries the session's CSRF token."""
    given = form.get(CSRF_FIELD)
    token = given if isinstance(given, str) else request.headers.get("x-csrf-token")
    if not same_token(token, session.csrf_token):
        raise ConsoleError(403, "CSRF token missing or wrong: reload the page and try again")
