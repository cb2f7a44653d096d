"""`callcenter users` through the installed console script on a SQLite file, and the users
store (accounts, sessions, audit) on SQLite and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter import accounts
from callcenter.config import Settings
from callcenter.domain.accounts import Role
from callcenter.store import db, migrate
from callcenter.store import users as store
from callcenter.store.models import AuditRow, UserRow, WebSessionRow

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))


def _cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CALLCENTER, *args], input=stdin, capture_output=True, text=True, timeout=60,
        env={**os.environ, "CALLCENTER_DATABASE_URL": url},
    )  # fmt: skip


def test_users_add_list_disable_with_the_password_from_standard_input(sqlite_url: str) -> None:
    assert _cli(sqlite_url, "db", "upgrade").returncode == 0
    added = _cli(sqlite_url, "users", "add", "op1", "--role", "operator", "--endpoint", "op1",
                 stdin="tajne hasło 1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "tajne" not in added.stdout + added.stderr
    boss = _cli(sqlite_url, "users", "add", "boss", "--role", "manager", stdin="kierownik!\n")
    assert boss.returncode == 0, boss.stderr
    listed = _cli(sqlite_url, "users", "list", "--json")
    items = json.loads(listed.stdout)
    assert [(u["username"], u["role"], u["endpoint"]) for u in items] == [
        ("boss", "manager", None), ("op1", "operator", "op1")]  # fmt: skip
    assert "argon2" not in listed.stdout and "hash" not in listed.stdout
    assert _cli(sqlite_url, "users", "disable", "op1").returncode == 0
    again = json.loads(_cli(sqlite_url, "users", "list", "--json").stdout)
    assert again[1]["disabled_at"] is not None and again[0]["disabled_at"] is None
    engine = db.make_engine(sqlite_url)
    with db.sessions(engine)() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.username == "op1"))
        assert stored is not None and stored.startswith("$argon2id$")
        actions = list(session.scalars(select(AuditRow.action).order_by(AuditRow.id)))
        assert actions == ["user.add", "user.add", "user.disable"]
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (["op1", "--role", "operator", "--endpoint", "op1"], "short\n", "at least 8"),
        (["op1", "--role", "operator", "--endpoint", "op1"], "\n", "password: empty"),
        (["op1", "--role", "operator"], "long enough\n", "--endpoint"),
        (["Op 1", "--role", "manager"], "long enough\n", "username"),
        (["op1", "--role", "admin"], "long enough\n", "--role"),
    ],
)
def test_users_add_refuses_bad_input_with_one_line_and_writes_nothing(
    sqlite_url: str, args: list[str], stdin: str, error: str
) -> None:
    assert _cli(sqlite_url, "db", "upgrade").returncode == 0
    done = _cli(sqlite_url, "users", "add", *args, stdin=stdin)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("callcenter: error: ") and error in lines[0]
    assert json.loads(_cli(sqlite_url, "users", "list", "--json").stdout) == []


def test_users_add_twice_and_disabling_nobody_are_clear_errors(sqlite_url: str) -> None:
    assert _cli(sqlite_url, "db", "upgrade").returncode == 0
    args = ["users", "add", "op1", "--role", "operator", "--endpoint", "op1"]
    assert _cli(sqlite_url, *args, stdin="long enough\n").returncode == 0
    twice = _cli(sqlite_url, *args, stdin="long enough\n")
    assert twice.returncode == 1 and twice.stderr == "callcenter: error: user 'op1' exists\n"
    nobody = _cli(sqlite_url, "users", "disable", "nobody")
    assert nobody.returncode == 1 and nobody.stderr == "callcenter: error: no user named nobody\n"


def test_the_users_store_keeps_accounts_sessions_and_their_end(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.sessions(engine)
    settings = Settings(database_url=database_url)
    t0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    with db.transaction(sessions) as session:
        accounts.add_user(session, "op1", Role.OPERATOR, "op1", "hasło operatora", t0)
    with db.transaction(sessions) as session:
        user = accounts.check_password(session, "op1", "hasło operatora", t0)
        assert user is not None and user.endpoint == "op1"
        assert accounts.check_password(session, "op1", "wrong one!", t0) is None
        cookie = accounts.open_login(session, user, accounts.COOKIE, t0, settings)
        token = accounts.open_login(session, user, accounts.BEARER, t0, settings)
    with db.transaction(sessions) as session:
        stored = list(session.scalars(select(WebSessionRow.token_hash)))
        assert cookie.token not in stored and accounts.token_hash(cookie.token) in stored
        live = accounts.authenticate(session, cookie.token, accounts.COOKIE, t0, settings)
        assert live is not None and live.csrf == cookie.csrf
        # A token is not a cookie: each opens only its own door.
        assert accounts.authenticate(session, token.token, accounts.COOKIE, t0, settings) is None
    with db.transaction(sessions) as session:
        store.disable_user(session, "op1", t0 + timedelta(minutes=1), actor="boss")
    with db.transaction(sessions) as session:
        at = t0 + timedelta(minutes=2)
        assert accounts.authenticate(session, cookie.token, accounts.COOKIE, at, settings) is None
        assert accounts.authenticate(session, token.token, accounts.BEARER, at, settings) is None
        assert accounts.check_password(session, "op1", "hasło operatora", at) is None
        assert session.scalar(select(WebSessionRow.id)) is None
        audit = session.execute(select(AuditRow.actor, AuditRow.action).order_by(AuditRow.id))
        assert [tuple(a) for a in audit] == [
            ("cli", "user.add"), ("op1", "login.cookie"), ("op1", "login.bearer"),
            ("boss", "user.disable")]  # fmt: skip
    engine.dispose()
