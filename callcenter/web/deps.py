"""Typed dependencies: the database session, the login, the current user, role guards.

A router carries its guard as a dependency (`dependencies=[Depends(operator)]`), never an
`if` in a handler: the route-table test reads the guard off each route. Every route has
exactly one guard among `public`, `any_user`, `operator`, `manager`.

A login is a cookie (browser pages; idle expiry) or `Authorization: Bearer` (the API). A
state-changing request made with the cookie must carry the session's CSRF token, in the form
field `csrf_token` or the header `X-CSRF-Token`; a bearer token is not sent by the browser on
its own, so it needs none.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from callcenter import accounts
from callcenter.config import Settings
from callcenter.domain.accounts import Role
from callcenter.store import db
from callcenter.store.users import User, WebSession

SESSION_COOKIE = "cc_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticatedError(Exception):
    """No live login: 401 for the API, a redirect to /login for pages."""


class ForbiddenError(Exception):
    """Logged in, but not allowed here (role, CSRF): 403."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def now() -> datetime:
    return datetime.now(UTC)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with db.transaction(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# Documents the bearer scheme in /openapi.json; a missing header is ours to answer.
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def get_login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(oauth2)],
) -> WebSession:
    """The request's live login (bearer token first, then the session cookie)."""
    token, kind = bearer, accounts.BEARER
    if token is None:
        token, kind = request.cookies.get(SESSION_COOKIE), accounts.COOKIE
    if not token:
        raise NotAuthenticatedError()
    login = accounts.authenticate(session, token, kind, now(), settings)
    if login is None:
        raise NotAuthenticatedError()
    request.state.login = login
    return login


LoginDep = Annotated[WebSession, Depends(get_login)]


async def checked_login(request: Request, login: LoginDep) -> WebSession:
    """The login, with the CSRF token checked on a cookie's state-changing request."""
    if login.kind == accounts.COOKIE and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and _is_form(request):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent, login.csrf):
            raise ForbiddenError("CSRF token missing or wrong")
    return login


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


CheckedLogin = Annotated[WebSession, Depends(checked_login)]


def _guard(*roles: Role) -> Callable[[WebSession], User]:
    def guard(login: CheckedLogin) -> User:
        if login.user.role not in roles:
            raise ForbiddenError(f"for {' or '.join(r.value for r in roles)} only")
        return login.user

    return guard


def public() -> None:
    """The guard of routes anyone may open (the login page, the token endpoint)."""


any_user = _guard(Role.OPERATOR, Role.MANAGER)
operator = _guard(Role.OPERATOR)
manager = _guard(Role.MANAGER)
any_user.__name__, operator.__name__, manager.__name__ = "any_user", "operator", "manager"

CurrentUser = Annotated[User, Depends(any_user)]
CurrentOperator = Annotated[User, Depends(operator)]
CurrentManager = Annotated[User, Depends(manager)]
GUARDS: dict[Callable[..., object], frozenset[Role]] = {
    public: frozenset(),
    any_user: frozenset({Role.OPERATOR, Role.MANAGER}),
    operator: frozenset({Role.OPERATOR}),
    manager: frozenset({Role.MANAGER}),
}
