"""Console accounts: argon2id passwords, roles, lockout after repeated failures, sessions in the
database (one sign-out ends one everywhere; every API worker sees the same), signed cookies, a
CSRF token per session, and the audit of what operators do.

The cookie holds a random 256-bit session id and an HMAC of it with the platform's console
secret; the database keeps only the id's SHA-256. A stolen database does not give a usable
cookie, and a forged cookie is refused before any lookup.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update

from central.console.console_tables import (
    console_audit,
    console_secrets,
    console_sessions,
    console_users,
)
from central.database import StoreError
from central.store import CentralStore
from central.tables import utc_now

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
RANK = {role: n for n, role in enumerate(ROLES)}

NAME_RULE = "1-64 letters, digits, '.', '_', '-'"
MIN_PASSWORD = 10
LOCK_AFTER = 5  # failures in a row
LOCK_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=8)  # a working day; signing in again after is no hardship
_HASHER = PasswordHasher()  # argon2id with the library's current defaults


@functools.cache
def _dummy() -> str:
    """A hash to check against when the name is unknown, so a wrong name costs what a wrong
    password costs and the time taken does not tell which names exist. Made on first use, not
    at import: every kiosk-central command imports this module, and a hash is 100 ms of CPU."""
    return _HASHER.hash(secrets.token_hex(16))


class AccountError(StoreError):
    """A console account could not be made or changed; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    id_hash: str


def valid_name(name: str) -> bool:
    return 1 <= len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- accounts ---------------------------------------------------------------------------------
def add_user(store: CentralStore, name: str, role: str, password: str) -> None:
    if not valid_name(name):
        raise AccountError(f"user name {name!r}: {NAME_RULE}")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    with store._write() as conn:
        if conn.execute(select(console_users.c.name).where(console_users.c.name == name)).first():
            raise AccountError(f"user {name!r} exists (reset its password with user password)")
        conn.execute(
            console_users.insert().values(
                name=name, password_hash=_HASHER.hash(password), role=role, created_at=utc_now()
            )
        )


def set_password(store: CentralStore, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    with store._write() as conn:
        changed = conn.execute(
            update(console_users)
            .where(console_users.c.name == name)
            .values(password_hash=_HASHER.hash(password), failures=0, locked_until=None)
        ).rowcount
        if not changed:
            raise AccountError(f"no user {name!r}")
        conn.execute(delete(console_sessions).where(console_sessions.c.user_name == name))


def set_disabled(store: CentralStore, name: str, disabled: bool) -> None:
    with store._write() as conn:
        changed = conn.execute(
            update(console_users)
            .where(console_users.c.name == name)
            .values(disabled=int(disabled), failures=0, locked_until=None)
        ).rowcount
        if not changed:
            raise AccountError(f"no user {name!r}")
        if disabled:
            conn.execute(delete(console_sessions).where(console_sessions.c.user_name == name))


def list_users(store: CentralStore) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                console_users.c.name, console_users.c.role, console_users.c.disabled,
                console_users.c.locked_until, console_users.c.created_at,
            ).order_by(console_users.c.name)
        ).all()  # fmt: skip
    return [
        {"name": r.name, "role": r.role, "disabled": bool(r.disabled),
         "locked_until": r.locked_until, "created_at": r.created_at}
        for r in rows
    ]  # fmt: skip


LoginResult = Literal["ok", "wrong", "locked", "disabled"]


def check_login(store: CentralStore, name: str, password: str) -> tuple[LoginResult, User | None]:
    """The password against the account, counting failures; LOCK_AFTER in a row lock the account
    for LOCK_FOR. A locked account says "locked" whatever the password (no guessing through)."""
    # The account's row stays locked through the check: attempts at one account take turns
    # (SQLite's write transaction does that by itself), so guesses sent side by side each
    # count, and the lockout holds however many workers and threads take them.
    query = select(console_users).where(console_users.c.name == name)
    if store.dialect == "postgresql":
        query = query.with_for_update()
    with store._write() as conn:
        row = conn.execute(query).first()
        if row is None:
            _verify(_dummy(), password)
            return "wrong", None
        now = _now()
        if row.locked_until and datetime.fromisoformat(row.locked_until) > now:
            return "locked", None
        if row.disabled:
            return "disabled", None
        if not _verify(row.password_hash, password):
            failures = row.failures + 1
            locked = (now + LOCK_FOR).isoformat() if failures >= LOCK_AFTER else None
            conn.execute(
                update(console_users)
                .where(console_users.c.name == name)
                .values(failures=0 if locked else failures, locked_until=locked)
            )
            return ("locked" if locked else "wrong"), None
        values: dict[str, object] = {"failures": 0, "locked_until": None}
        if _HASHER.check_needs_rehash(row.password_hash):
            values["password_hash"] = _HASHER.hash(password)
        conn.execute(update(console_users).where(console_users.c.name == name).values(**values))
        return "ok", User(row.name, row.role)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# -- sessions -----------------------------------------------------------------------------------
def _secret(store: CentralStore) -> bytes:
    """The platform's console secret, made on first use and shared by all workers."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(console_secrets.c.value).where(console_secrets.c.name == "cookie")
        ).scalar()
    if found is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = pg_insert if store.dialect == "postgresql" else sqlite_insert
        with store._write() as conn:
            conn.execute(
                insert(console_secrets)
                .values(name="cookie", value=secrets.token_hex(32), created_at=utc_now())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            found = conn.execute(
                select(console_secrets.c.value).where(console_secrets.c.name == "cookie")
            ).scalar_one()
    return bytes.fromhex(found)


def _sign(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, session_id.encode(), hashlib.sha256).hexdigest()


def open_session(store: CentralStore, user: User) -> str:
    """A new session for *user*; returns the cookie's value."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with store._write() as conn:
        conn.execute(
            delete(console_sessions).where(console_sessions.c.expires_at < now.isoformat())
        )
        conn.execute(
            console_sessions.insert().values(
                id_hash=_digest(session_id), user_name=user.name, csrf=secrets.token_urlsafe(32),
                created_at=now.isoformat(), expires_at=(now + SESSION_FOR).isoformat(),
            )
        )  # fmt: skip
    return f"{session_id}.{_sign(_secret(store), session_id)}"


def session_of(store: CentralStore, cookie: str | None) -> Session | None:
    """The live session a cookie names, with its user as the database has them now (a role
    changed or an account disabled counts at once), or None."""
    if not cookie or cookie.count(".") != 1:
        return None
    session_id, signature = cookie.split(".")
    if not hmac.compare_digest(_sign(_secret(store), session_id), signature):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(console_sessions.c.csrf, console_sessions.c.expires_at,
                   console_sessions.c.id_hash, console_users.c.name, console_users.c.role,
                   console_users.c.disabled)
            .join(console_users, console_users.c.name == console_sessions.c.user_name)
            .where(console_sessions.c.id_hash == _digest(session_id))
        ).first()  # fmt: skip
    if row is None or row.disabled or datetime.fromisoformat(row.expires_at) <= _now():
        return None
    return Session(User(row.name, row.role), row.csrf, row.id_hash)


def close_session(store: CentralStore, session: Session) -> None:
    with store._write() as conn:
        conn.execute(delete(console_sessions).where(console_sessions.c.id_hash == session.id_hash))


# -- audit --------------------------------------------------------------------------------------
def audit(
    store: CentralStore, user: str, action: str, target: str | None = None, detail: str = ""
) -> None:
    with store._write() as conn:
        conn.execute(
            console_audit.insert().values(
                at=utc_now(), user_name=user, action=action, target=target, detail=detail[:500]
            )
        )


def audit_log(store: CentralStore, limit: int = 200) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]
