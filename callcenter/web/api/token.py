"""`POST /api/token`: the OAuth2 password flow; a bearer token for the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from callcenter import accounts
from callcenter.web import login as login_service
from callcenter.web.deps import SessionDep, SettingsDep, now, public

router = APIRouter(prefix="/api", tags=["token"], dependencies=[Depends(public)])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/token",
    responses={401: {"description": "Bad credentials"}, 429: {"description": "Throttled"}},
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    at = now()
    try:
        login = login_service.attempt(
            session,
            request.app.state.throttle,
            settings,
            form.username,
            form.password,
            request.client.host if request.client else "",
            accounts.BEARER,
            at,
        )
    except login_service.ThrottledError as exc:
        raise HTTPException(
            429, "too many failed logins", headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except login_service.BadCredentialsError:
        raise HTTPException(
            401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    return Token(access_token=login.token, expires_in=int((login.expires_at - at).total_seconds()))
