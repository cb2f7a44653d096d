"""Accounts' use cases for every door (CLI, web): passwords, logins, sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults). A login is a random token
(`secrets.token_urlsafe`, 256 bits) handed to the client once; the store keeps only its
SHA-256, so the database alone lets nobody in, and deleting the row ends the login at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from callcenter.config import Settings
from callcenter.domain.accounts import Role
from callcenter.store import users as store
from callcenter.store.users import User, WebSession

COOKIE = "cookie"
BEARER = "bearer"
_TOUCH_EVERY = timedelta(seconds=30)  # a cookie session's idle clock is written at most this often

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both answers take an argon2 verify
    (made at the first such login, not at import: every CLI command imports this module)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Login:
    """A new login: the token for the client (shown once) and its session."""

    token: str
    user: User
    csrf: str
    expires_at: datetime


def check_password(session: Session, username: str, password: str, now: datetime) -> User | None:
    """The enabled account these credentials open, or None (unknown, wrong, disabled)."""
    found = store.credentials(session, username)
    if found is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return None
    user, stored = found
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if _hasher.check_needs_rehash(stored):
        store.set_password_hash(session, user.id, _hasher.hash(password), now, user.username)
    return user


def open_login(session: Session, user: User, kind: str, now: datetime, settings: Settings) -> Login:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    if kind == COOKIE:
        expires = now + timedelta(minutes=settings.web_session_idle_min)
    else:
        expires = now + timedelta(minutes=settings.web_token_ttl_min)
    store.sweep_sessions(session, now)
    store.open_session(session, user, kind, token_hash(token), csrf, now, expires)
    return Login(token=token, user=user, csrf=csrf, expires_at=expires)


def authenticate(
    session: Session, token: str, kind: str, now: datetime, settings: Settings
) -> WebSession | None:
    """The live session of this token (its idle clock moved on for a cookie), or None."""
    row = store.live_session(session, token_hash(token), kind, now)
    if row is None:
        return None
    if kind == COOKIE and now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = now + timedelta(minutes=settings.web_session_idle_min)
    return store.as_web_session(row)


def logout(session: Session, token: str, now: datetime) -> None:
    store.close_session(session, token_hash(token), now)


def add_user(
    session: Session,
    username: str,
    role: Role,
    endpoint: str | None,
    password: str,
    now: datetime,
    actor: str = "cli",
) -> User:
    return store.add_user(session, username, role, endpoint, hash_password(password), now, actor)
