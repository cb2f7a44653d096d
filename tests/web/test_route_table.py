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


# The operator's desk (issue 11): who may do what. Taking a ticket and calling a customer back
# are an operator's work (their phone); a ticket, its call and the audited reveal of its
# access data are open to the operator who needs them and to managers.
DESK_ROUTES = {
    ("POST", "/api/tickets"): {Role.OPERATOR},
    ("POST", "/api/tickets/checks"): {Role.OPERATOR},
    ("GET", "/api/tickets/{ticket_id}"): {Role.OPERATOR, Role.MANAGER},
    ("POST", "/api/tickets/{ticket_id}/reveal"): {Role.OPERATOR, Role.MANAGER},
    ("GET", "/api/calls/{call_id}"): {Role.OPERATOR, Role.MANAGER},
    ("GET", "/api/callbacks"): {Role.OPERATOR},
    ("GET", "/api/callbacks/{callback_id}"): {Role.OPERATOR},
    ("POST", "/api/callbacks/{callback_id}/call"): {Role.OPERATOR},
}


def test_the_desk_routes_carry_the_roles_they_should() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for key, roles in DESK_ROUTES.items():
        assert key in found, f"{key} is not a route"
        assert found[key] == roles, key


# The admin of the terms (issue 12, item 5): contracts, their import, closures,
# consolidations, accounts and the audit log are a manager's, pages and API alike.
ADMIN_ROUTES = {
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
}


def test_the_admin_routes_are_managers_only_and_none_changes_the_audit_log() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for key in ADMIN_ROUTES:
        assert key in found, f"{key} is not a route"
        assert found[key] == {Role.MANAGER}, key
    audit_routes = {key for key in found if "audit" in key[1]}
    assert audit_routes == {("GET", "/audit"), ("GET", "/api/audit")}  # read only


# The manager's review (issue 12, item 2): tickets and callbacks with their due times and
# breaches, and the one-click answer, are a manager's work; an operator gets 403.
REVIEW_ROUTES = {
    ("GET", "/api/tickets"): {Role.MANAGER},
    ("POST", "/api/tickets/{ticket_id}/answer"): {Role.MANAGER},
    ("GET", "/api/callbacks/all"): {Role.MANAGER},
    ("GET", "/tickets"): {Role.MANAGER},
    ("GET", "/tickets/{ticket_id}"): {Role.MANAGER},
    ("POST", "/tickets/{ticket_id}/answer"): {Role.MANAGER},
    ("GET", "/callbacks"): {Role.MANAGER},
}


def test_the_review_routes_carry_the_roles_they_should() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    for key, roles in REVIEW_ROUTES.items():
        assert key in found, f"{key} is not a route"
        assert found[key] == frozenset(roles), key


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


# The manager's console (issue 12, the live wallboard): managers only.
WALLBOARD_ROUTES = {
    ("GET", "/wallboard"): {Role.MANAGER},
    ("GET", "/api/wallboard"): {Role.MANAGER},
}


def test_the_wallboard_routes_are_the_managers() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for key, roles in WALLBOARD_ROUTES.items():
        assert key in found, f"{key} is not a route"
        assert found[key] == roles, key


# The call log (issue 12, item 1): a manager's; a call's entry stays open to the operator's
# screen too.
CALL_LOG_ROUTES = {
    ("GET", "/api/calls"): {Role.MANAGER},
    ("GET", "/api/calls.csv"): {Role.MANAGER},
    ("GET", "/api/calls/{call_id}"): {Role.OPERATOR, Role.MANAGER},
    ("GET", "/calls"): {Role.MANAGER},
    ("GET", "/calls/{call_id}"): {Role.MANAGER},
}


def test_the_call_log_routes_carry_the_roles_they_should() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for key, roles in CALL_LOG_ROUTES.items():
        assert key in found, f"{key} is not a route"
        assert found[key] == roles, key


# The manager's service-level reports (issue 12, item 3): the page, its JSON and its CSV.
REPORT_ROUTES = {
    ("GET", "/reports"): {Role.MANAGER},
    ("GET", "/api/reports/service-levels"): {Role.MANAGER},
    ("GET", "/api/reports/service-levels.csv"): {Role.MANAGER},
}


def test_the_report_routes_carry_the_roles_they_should() -> None:
    app = create_app(Settings(database_url="sqlite://"), PopHub())
    found = {
        (method, route.path): allowed_roles(route)
        for route in walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for key, roles in REPORT_ROUTES.items():
        assert key in found, f"{key} is not a route"
        assert found[key] == roles, key
