"""Accounts and their web sessions. Every change to an account lands in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callcenter.domain.accounts import Role
from callcenter.store import audit
from callcenter.store.models import UserRow, WebSessionRow
from callcenter.store.repositories import NotFoundError, _audit


class UserExistsError(ValueError):
    """The username is taken."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    endpoint: str | None
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class WebSession:
    """A live login: its user, its kind (cookie, bearer) and its CSRF token."""

    id: int
    user: User
    kind: str
    csrf: str
    expires_at: datetime


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        endpoint=row.endpoint,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def add_user(
    session: Session,
    username: str,
    role: Role,
    endpoint: str | None,
    password_hash: str,
    now: datetime,
    actor: str = "cli",
) -> User:
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise UserExistsError(f"user {username!r} exists")
    row = UserRow(
        username=username,
        password_hash=password_hash,
        role=role.value,
        endpoint=endpoint,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    detail = f"role={role.value} endpoint={endpoint or '-'}"
    after = {"username": username, "role": role.value, "endpoint": endpoint}
    audit.record(session, now, actor, "user.add", username, detail, after=after)
    return _user(row)


def users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def credentials(session: Session, username: str) -> tuple[User, str] | None:
    """The account and its password hash, for checking a login (None if unknown)."""
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    return None if row is None else (_user(row), row.password_hash)


def set_password_hash(
    session: Session, user_id: int, password_hash: str, now: datetime, actor: str
) -> None:
    """Store a re-hashed password (argon2 parameters raised since it was set)."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFoundError(f"no user #{user_id}")
    row.password_hash = password_hash
    row.updated_at = now
    _audit(session, now, actor, "user.rehash", row.username)


def disable_user(session: Session, username: str, now: datetime, actor: str = "cli") -> User:
    """Disable an account and end every session and token it has."""
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user named {username}")
    was = row.disabled_at
    if row.disabled_at is None:
        row.disabled_at = now
        row.updated_at = now
    ended = session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
    audit.record(
        session, now, actor, "user.disable", username,
        f"sessions_ended={ended.rowcount}",  # type: ignore[attr-defined]
        before={"disabled_at": was}, after={"disabled_at": row.disabled_at},
    )  # fmt: skip
    session.flush()
    return _user(row)


# --- web sessions ------------------------------------------------------------------------


def open_session(
    session: Session,
    user: User,
    kind: str,
    token_hash: str,
    csrf: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        WebSessionRow(
            token_hash=token_hash,
            user_id=user.id,
            kind=kind,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    _audit(session, now, user.username, f"login.{kind}", user.username)


def live_session(
    session: Session, token_hash: str, kind: str, now: datetime
) -> WebSessionRow | None:
    """The session with this token hash if it has not expired and its user is enabled; an
    expired one is deleted."""
    row = session.scalar(
        select(WebSessionRow).where(
            WebSessionRow.token_hash == token_hash, WebSessionRow.kind == kind
        )
    )
    if row is None:
        return None
    if row.expires_at <= now or row.user.disabled_at is not None:
        session.delete(row)
        return None
    return row


def as_web_session(row: WebSessionRow) -> WebSession:
    return WebSession(
        id=row.id, user=_user(row.user), kind=row.kind, csrf=row.csrf, expires_at=row.expires_at
    )


def close_session(session: Session, token_hash: str, now: datetime) -> None:
    row = session.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash))
    if row is not None:
        _audit(session, now, row.user.username, "logout", row.user.username)
        session.delete(row)


def sweep_sessions(session: Session, now: datetime) -> int:
    """Delete the expired sessions; how many."""
    done = session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    return int(done.rowcount)  # type: ignore[attr-defined]
