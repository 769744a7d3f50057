"""Console sessions: an opaque cookie naming a server-side session that carries a CSRF token."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request
from starlette.datastructures import FormData

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


@dataclass(slots=True)
class SessionStore:
    """Sessions of one app, in memory: a restart logs everyone out (the admin token stays)."""

    ttl_s: float = SESSION_TTL_S
    _sessions: dict[str, Session] = field(default_factory=dict)

    def create(self, who: str, now: datetime, user_id: int | None = None) -> Session:
        self._forget_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions.values(), key=lambda s: s.created_at)
            del self._sessions[oldest.session_id]
        session = Session(
            session_id=secrets.token_urlsafe(32),
            who=who,
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=self.ttl_s),
        )
        self._sessions[session.session_id] = session
        return session

    def find(self, session_id: str | None, now: datetime) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[session_id]
            return None
        return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def _forget_expired(self, now: datetime) -> None:
        for sid in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[sid]


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
    """Constant-time comparison of a submitted token."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def check_csrf(form: FormData, request: Request, session: Session) -> None:
    """403 unless the form (or the X-CSRF-Token header) carries the session's CSRF token."""
    given = form.get(CSRF_FIELD)
    token = given if isinstance(given, str) else request.headers.get("x-csrf-token")
    if not same_token(token, session.csrf_token):
        raise ConsoleError(403, "CSRF token missing or wrong: reload the page and try again")
