"""Accounts, logins and sessions through the real app (uvicorn, a real SQLite file): the
token endpoint, the login form, CSRF, throttling, logout, disabled accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from web_support import Account, LiveServer, bearer, login_cookie

from callcenter import accounts
from callcenter.config import Settings
from callcenter.store import db
from callcenter.store import users as store
from callcenter.store.models import UserRow


def test_token_is_issued_for_good_credentials_and_refused_with_401_otherwise(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        good = http.post("/api/token", data={"username": "op1", "password": op.password})
        assert good.status_code == 200
        body = good.json()
        assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
        bad = http.post("/api/token", data={"username": "op1", "password": "wrong password"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == "Bearer"
        unknown = http.post("/api/token", data={"username": "nobody", "password": "x" * 10})
        assert unknown.status_code == 401
        missing = http.post("/api/token", data={"username": "op1"})
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["field"] == "password"
        me = http.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["username"] == "op1"
        assert http.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_api_users_lists_accounts_for_managers_only_and_never_the_hash(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    boss = make_user("boss", "manager")
    with live_server.client() as http:
        as_op = {"Authorization": f"Bearer {bearer(http, op)}"}
        as_boss = {"Authorization": f"Bearer {bearer(http, boss)}"}
        assert http.get("/api/users", headers=as_op).status_code == 403
        listed = http.get("/api/users", headers=as_boss)
        assert listed.status_code == 200
        assert [u["username"] for u in listed.json()] == ["boss", "op1"]
        assert "argon2" not in listed.text and "hash" not in listed.text
        assert http.get("/api/users").status_code == 401


def test_failed_logins_are_throttled_per_account_with_retry_after(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        for _ in range(5):
            wrong = http.post("/api/token", data={"username": "op1", "password": "bad guess 1"})
            assert wrong.status_code == 401
        blocked = http.post("/api/token", data={"username": "op1", "password": op.password})
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
        # The login form shares the count.
        form = http.get("/login")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        page = http.post("/login", data={"username": "op1", "password": op.password,
                                         "csrf_token": csrf})  # fmt: skip
        assert page.status_code == 429 and "retry-after" in page.headers


def test_failed_logins_are_throttled_per_address_across_accounts(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op9", "operator", endpoint="op1")
    with live_server.client() as http:
        for i in range(20):
            data = {"username": f"guess{i}", "password": "not it at all"}
            assert http.post("/api/token", data=data).status_code == 401
        blocked = http.post("/api/token", data={"username": "op9", "password": op.password})
        assert blocked.status_code == 429


def test_login_form_sets_a_strict_http_only_cookie_and_needs_its_csrf_token(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        http.get("/login")
        forged = http.post("/login", data={"username": "op1", "password": op.password})
        assert forged.status_code == 403
        assert "cc_session" not in http.cookies
    with live_server.client() as http:
        form = http.get("/login")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = http.post("/login", data={"username": "op1", "password": op.password,
                                         "csrf_token": csrf})  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == "/"
        cookie = done.headers["set-cookie"].lower()
        assert "cc_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert http.get("/").status_code == 200


def test_wrong_password_on_the_login_form_says_so_in_polish(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        form = http.get("/login")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        page = http.post("/login", data={"username": "op1", "password": "<b>nope</b>",
                                         "csrf_token": csrf})  # fmt: skip
        assert page.status_code == 401
        assert "Nieprawidłowy login lub hasło" in page.text
        assert "<b>nope</b>" not in page.text


def test_logout_needs_the_csrf_token_and_really_ends_the_session(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        csrf = login_cookie(http, op)
        assert http.post("/logout").status_code == 403  # no token: a forged post
        assert http.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
        stolen = http.cookies["cc_session"]
        done = http.post("/logout", data={"csrf_token": csrf})
        assert done.status_code == 303 and done.headers["location"] == "/login"
    with live_server.client(cookies={"cc_session": stolen}) as again:
        assert again.get("/").status_code == 303  # the old cookie opens nothing


def test_a_cookie_json_post_needs_the_csrf_header(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        csrf = login_cookie(http, op)
        assert http.post("/logout", json={}).status_code == 403
        assert http.post("/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 303


def test_a_disabled_user_cannot_log_in_and_their_sessions_and_tokens_stop(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        login_cookie(http, op)
        token = bearer(http, op)
        engine = db.make_engine(live_server.settings.database_url)
        with db.transaction(db.sessions(engine)) as session:
            store.disable_user(session, "op1", datetime.now(UTC), actor="test")
        engine.dispose()
        assert http.get("/").status_code == 303
        assert http.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        again = http.post("/api/token", data={"username": "op1", "password": op.password})
        assert again.status_code == 401


def test_tokens_expire_and_cookie_sessions_expire_when_idle(
    web_db_url: str, make_user: Callable[..., Account]
) -> None:
    make_user("op1", "operator", endpoint="op1")
    settings = Settings(database_url=web_db_url, web_session_idle_min=30, web_token_ttl_min=60)
    engine = db.make_engine(web_db_url)
    sessions = db.sessions(engine)
    t0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    with db.transaction(sessions) as session:
        user = accounts.check_password(session, "op1", "correct horse battery", t0)
        assert user is not None
        token = accounts.open_login(session, user, accounts.BEARER, t0, settings).token
        cookie = accounts.open_login(session, user, accounts.COOKIE, t0, settings).token
    with db.transaction(sessions) as session:
        # A cookie used every 20 minutes lives on; a token does not outlive its hour.
        for minutes in (20, 40, 60, 80):
            at = t0 + timedelta(minutes=minutes)
            assert accounts.authenticate(session, cookie, accounts.COOKIE, at, settings)
        assert accounts.authenticate(session, token, accounts.BEARER, t0 + timedelta(minutes=59),
                                     settings)  # fmt: skip
        assert not accounts.authenticate(
            session, token, accounts.BEARER, t0 + timedelta(minutes=61), settings
        )
        # 31 idle minutes after the last use: gone.
        assert not accounts.authenticate(
            session, cookie, accounts.COOKIE, t0 + timedelta(minutes=80 + 31), settings
        )
        # The store keeps no token, only its hash.
        stored = session.query(UserRow).one()
        assert token not in stored.password_hash
    engine.dispose()
