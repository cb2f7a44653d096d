"""`/login` and `/logout`: the browser's cookie session.

The login form carries a CSRF token of its own (double submit: a random value in a cookie
and in the form, compared), so no other site can log a browser into an account of theirs.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenter import accounts
from callcenter.domain.accounts import Role
from callcenter.web import login as login_service
from callcenter.web.deps import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SessionDep,
    SettingsDep,
    any_user,
    now,
    public,
)
from callcenter.web.templating import page

LOGIN_CSRF_COOKIE = "cc_login_csrf"

router = APIRouter(dependencies=[Depends(public)], include_in_schema=False)
logout_router = APIRouter(dependencies=[Depends(any_user)], include_in_schema=False)


def home_of(role: Role) -> str:
    return "/" if role is Role.OPERATOR else "/users"


def _form(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": token, "error": error}, status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.web_secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _form(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _form(request, "Formularz wygasł: spróbuj jeszcze raz.", 403)
    address = request.client.host if request.client else ""
    try:
        done = login_service.attempt(
            session, request.app.state.throttle, settings, username, password, address,
            accounts.COOKIE, now(),
        )  # fmt: skip
    except login_service.ThrottledError as exc:
        response = _form(
            request, f"Zbyt wiele nieudanych prób. Spróbuj za {exc.retry_after} s.", 429
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except login_service.BadCredentialsError:
        return _form(request, "Nieprawidłowy login lub hasło.", 401)
    redirect = RedirectResponse(home_of(done.user.role), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=settings.web_secure_cookies,
        path="/",
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return redirect


@logout_router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.logout(session, token, now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
