"""Every route of the app, every method, as anonymous, operator and manager (by cookie and
by bearer token): the status each gets is the one its router's role guard promises. The
expectation is read off the route's dependencies, so a route added without a guard fails."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount, Route
from web_support import Account, LiveServer

from callcenter import accounts
from callcenter.config import Settings
from callcenter.domain.accounts import Role
from callcenter.pbx.pops import PopHub
from callcenter.store import db
from callcenter.store import users as store
from callcenter.web.app import create_app
from callcenter.web.deps import GUARDS, public

# Routes FastAPI or Starlette add themselves, open to anyone, and the sockets (each with its
# own authentication test in test_ws_pops.py).
FRAMEWORK_PUBLIC = {"/openapi.json"}
SOCKETS = {"/ws/pops"}
STATIC_PROBE = "/static/pops.js"
# Routes that need the AMI connection `callcenter serve` holds: the test server (the web app
# alone, as `callcenter web`) answers them 503 for the roles allowed.
NEEDS_AMI = {"/api/callbacks/{callback_id}/call"}


def _guards(dependant: Dependant) -> Iterator[Callable[..., object]]:
    for sub in dependant.dependencies:
        if sub.call in GUARDS:
            yield sub.call
        yield from _guards(sub)


def allowed_roles(route: APIRoute) -> frozenset[Role] | None:
    """Who may use the route: None for anyone (public); else the roles every guard on it
    admits. A route without a guard fails here."""
    found = set(_guards(route.dependant))
    assert found, f"{route.path} has no role guard (deps.public, any_user, operator, manager)"
    found.discard(public)
    if not found:
        return None
    roles = frozenset(Role)
    for guard in found:
        roles &= GUARDS[guard]
    return roles


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role | None
    kind: str | None  # cookie, bearer or None (anonymous)


IDENTITIES = [
    Identity("anonymous", None, None),
    *(Identity(f"{r.value}-{k}", r, k) for r in Role for k in (accounts.COOKIE, accounts.BEARER)),
]


def walk(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with the routers FastAPI includes lazily (newer versions keep an
    included router whole; its routes already carry the router's prefix and guard)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from walk(inner.routes)
        else:
            yield route


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def logins(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> Callable[[Identity], dict[str, str]]:
    """Headers/cookies of a fresh login per request (a POST /logout ends the one it used).
    Opened in the store directly: no argon2 work per request."""
    make_user("op1", "operator", endpoint="op1")
    make_user("boss", "manager")
    engine = db.make_engine(live_server.settings.database_url)
    sessions = db.sessions(engine)
    settings = Settings(database_url=live_server.settings.database_url)
    users = {}
    with sessions() as session:
        for user in store.users(session):
            users[user.role] = user

    def headers(identity: Identity) -> dict[str, str]:
        if identity.role is None or identity.kind is None:
            return {}
        with db.transaction(sessions) as session:
            login = accounts.open_login(
                session, users[identity.role], identity.kind, datetime.now(UTC), settings
            )
        if identity.kind == accounts.BEARER:
            return {"Authorization": f"Bearer {login.token}"}
        return {"Cookie": f"cc_session={login.token}", "X-CSRF-Token": login.csrf}

    return headers


def test_every_route_answers_each_role_as_its_guard_says(
    live_server: LiveServer, logins: Callable[[Identity], dict[str, str]]
) -> None:
    app = create_app(Settings(database_url=live_server.settings.database_url), PopHub())
    checked = 0
    with live_server.client(follow_redirects=False) as http:
        for route in walk(app.routes):
            if isinstance(route, APIWebSocketRoute):
                assert route.path in SOCKETS, f"socket {route.path} has no auth test"
                continue
            if isinstance(route, Mount):
                assert route.path == "/static"
                assert http.get(STATIC_PROBE).status_code == 200
                continue
            if not isinstance(route, APIRoute):
                assert isinstance(route, Route) and route.path in FRAMEWORK_PUBLIC, route.path
                assert http.get(route.path).status_code == 200
                continue
            roles = allowed_roles(route)
            path = _concrete(route.path)
            for method in sorted(route.methods):
                for identity in IDENTITIES:
                    answer = http.request(method, path, headers=logins(identity))
                    where = f"{method} {route.path} as {identity.name}: {answer.status_code}"
                    assert answer.status_code < 500 or route.path in NEEDS_AMI, where
                    if roles is None:
                        assert answer.status_code not in (401, 403), where
                    elif identity.role is None:
                        if path.startswith("/api/") or method != "GET":
                            assert answer.status_code == 401, where
                        else:
                            assert answer.status_code == 303, where
                            assert answer.headers["location"] == "/login", where
                    elif identity.role not in roles:
                        assert answer.status_code == 403, where
                    elif route.path in NEEDS_AMI:
                        assert answer.status_code == 503, where
                        assert "callcenter serve" in answer.json()["detail"], where
                    else:
                        assert answer.status_code not in (401, 403), where
                    checked += 1
    assert checked >= 5 * 8  # the table really was walked


def test_a_route_without_a_guard_is_caught() -> None:
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/unguarded")
    def unguarded() -> dict[str, str]:
        return {}

    [route] = [r for r in bare.routes if isinstance(r, APIRoute)]
    with pytest.raises(AssertionError, match="no role guard"):
        allowed_roles(route)


def _route_roles() -> dict[tuple[str, str], frozenset[Role] | None]:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    return {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


MANAGER = {Role.MANAGER}
BOTH = {Role.OPERATOR, Role.MANAGER}

# Who may do what, area by area (the test above reads it off the guards; this says what the
# guards must be). The operator's desk (issue 11): taking a ticket and calling a customer
# back are an operator's work (their phone); a ticket, its call and the audited reveal of its
# access data are open to the operator who needs them and to managers. The manager's console
# (issue 12) is a manager's: the call log (a call's entry stays open to the operator's
# screen), the review of tickets and callbacks with the one-click answer, the reports, the
# wallboard, the admin of the terms and the audit log.
ROLES_BY_AREA: dict[str, dict[tuple[str, str], set[Role]]] = {
    "desk": {
        ("POST", "/api/tickets"): {Role.OPERATOR},
        ("POST", "/api/tickets/checks"): {Role.OPERATOR},
        ("GET", "/api/tickets/{ticket_id}"): BOTH,
        ("POST", "/api/tickets/{ticket_id}/reveal"): BOTH,
        ("GET", "/api/calls/{call_id}"): BOTH,
        ("GET", "/api/callbacks"): {Role.OPERATOR},
        ("GET", "/api/callbacks/{callback_id}"): {Role.OPERATOR},
        ("POST", "/api/callbacks/{callback_id}/call"): {Role.OPERATOR},
    },
    "call log": {
        ("GET", "/api/calls"): MANAGER,
        ("GET", "/api/calls.csv"): MANAGER,
        ("GET", "/calls"): MANAGER,
        ("GET", "/calls/{call_id}"): MANAGER,
    },
    "review": {
        ("GET", "/api/tickets"): MANAGER,
        ("POST", "/api/tickets/{ticket_id}/answer"): MANAGER,
        ("GET", "/api/callbacks/all"): MANAGER,
        ("GET", "/tickets"): MANAGER,
        ("GET", "/tickets/{ticket_id}"): MANAGER,
        ("POST", "/tickets/{ticket_id}/answer"): MANAGER,
        ("GET", "/callbacks"): MANAGER,
    },
    "reports": {
        ("GET", "/reports"): MANAGER,
        ("GET", "/api/reports/service-levels"): MANAGER,
        ("GET", "/api/reports/service-levels.csv"): MANAGER,
    },
    "wallboard": {("GET", "/wallboard"): MANAGER, ("GET", "/api/wallboard"): MANAGER},
    "admin": {
        key: MANAGER
        for key in (
            ("GET", "/contracts"),
            ("POST", "/contracts/import"),
            ("GET", "/contracts/{number:path}"),
            ("GET", "/closures"),
            ("POST", "/closures"),
            ("GET", "/consolidations"),
            ("POST", "/consolidations"),
            ("GET", "/users"),
            ("POST", "/users"),
            ("POST", "/users/{username}/disable"),
            ("GET", "/audit"),
            ("GET", "/api/contracts"),
            ("POST", "/api/contracts/import"),
            ("GET", "/api/contracts/{number:path}"),
            ("GET", "/api/closures"),
            ("POST", "/api/closures"),
            ("GET", "/api/consolidations"),
            ("POST", "/api/consolidations"),
            ("GET", "/api/users"),
            ("POST", "/api/users"),
            ("POST", "/api/users/{username}/disable"),
            ("GET", "/api/audit"),
        )
    },
}


@pytest.mark.parametrize("area", sorted(ROLES_BY_AREA))
def test_each_areas_routes_carry_the_roles_they_should(area: str) -> None:
    found = _route_roles()
    for key, roles in ROLES_BY_AREA[area].items():
        assert key in found, f"{key} is not a route"
        assert found[key] == frozenset(roles), key


def test_the_audit_log_is_read_only() -> None:
    audit_routes = {key for key in _route_roles() if "audit" in key[1]}
    assert audit_routes == {("GET", "/audit"), ("GET", "/api/audit")}


def test_the_managers_callback_list_is_not_taken_for_a_callbacks_id(
    live_server: LiveServer, logins: Callable[[Identity], dict[str, str]]
) -> None:
    """`/api/callbacks/all` beside the operator's `/api/callbacks/{callback_id}`: the
    manager's route comes first, so a manager gets the list, an operator 403."""
    with live_server.client(follow_redirects=False) as http:
        for kind in (accounts.COOKIE, accounts.BEARER):
            boss = http.get("/api/callbacks/all", headers=logins(Identity("m", Role.MANAGER, kind)))
            assert boss.status_code == 200 and "callbacks" in boss.json()
            op = http.get("/api/callbacks/all", headers=logins(Identity("o", Role.OPERATOR, kind)))
            assert op.status_code == 403
