"""Users' console passwords: salted scrypt hashes in their own table, never returned."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from server.db.engine import Database
from server.db.migrate import Migration, sql_step

MIN_LENGTH = 8
MAX_LENGTH = 1024
# scrypt cost: 2**14 x 8 x 1 needs 16 MiB and ~50 ms on a Pi-class CPU, per login.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32

PASSWORD_MIGRATIONS: tuple[Migration, ...] = (
    sql_step(
        400,
        "user_passwords",
        """CREATE TABLE user_passwords (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,
            set_at TEXT NOT NULL)""",
    ),
)


class PasswordRefusedError(ValueError):
    """A password that cannot be set (too short, too long)."""


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefusedError(f"password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefusedError(f"password must have at most {MAX_LENGTH} characters")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=128 * r * (n + p + 2), dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key` with a fresh random salt."""
    check_policy(password)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt" or len(password) > MAX_LENGTH:
            return False
        found = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found, _unb64(key))


# Verified against when no user matches, so an unknown name takes as long as a wrong password.
DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * 32)}"


@dataclass(frozen=True, slots=True)
class Account:
    """A user who can log in: who they are and their stored hash."""

    user_id: int
    name: str
    email: str | None
    password_hash: str


class PasswordStore:
    """Reads and writes `user_passwords`; every write is one statement (autocommit)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, user_id: int, password_hash: str, now: datetime) -> bool:
        """Store a user's hash; False when the user does not exist."""
        if not list(self.db.query("SELECT id FROM users WHERE id = ?", [user_id])):
            return False
        self.db.execute(
            "INSERT INTO user_passwords (user_id, hash, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
            [user_id, password_hash, now.isoformat()],
        )
        return True

    def clear(self, user_id: int) -> bool:
        """Remove a user's password (they can no longer log in); False when there was none."""
        cursor = self.db.execute("DELETE FROM user_passwords WHERE user_id = ?", [user_id])
        return cursor.rowcount > 0

    def with_password(self) -> set[int]:
        """Ids of the users who have a password."""
        return {r["user_id"] for r in self.db.query("SELECT user_id FROM user_passwords")}

    def accounts(self, login: str) -> list[Account]:
        """Users with a password whose email, else name, matches `login` (case-insensitive)."""
        sql = (
            "SELECT u.id, u.name, u.email, p.hash FROM users u "
            "JOIN user_passwords p ON p.user_id = u.id WHERE lower({col}) = lower(?) ORDER BY u.id"
        )
        for col in ("u.email", "u.name"):
            rows = list(self.db.query(sql.format(col=col), [login.strip()]))
            if rows:
                return [Account(r["id"], r["name"], r["email"], r["hash"]) for r in rows]
        return []
