"""`/api/users`: the accounts (managers only): list, add, disable, each change audited;
`/api/me`: your own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from callcenter import admin
from callcenter.render import user_json
from callcenter.store import users as store
from callcenter.web.deps import (
    CurrentManager,
    CurrentUser,
    SessionDep,
    SettingsDep,
    any_user,
    manager,
    now,
)

router = APIRouter(prefix="/api", tags=["users"], dependencies=[Depends(manager)])
me_router = APIRouter(prefix="/api", tags=["users"], dependencies=[Depends(any_user)])


class NewUser(BaseModel):
    username: Annotated[str, Field(max_length=64)]
    role: Annotated[str, Field(max_length=20)]
    endpoint: Annotated[str | None, Field(max_length=64)] = None
    password: Annotated[str, Field(max_length=1024)]


@router.get("/users")
def list_users(session: SessionDep) -> list[dict[str, Any]]:
    return [user_json(u) for u in store.users(session)]


@router.post("/users", status_code=201)
def add_user(
    body: NewUser, session: SessionDep, settings: SettingsDep, user: CurrentManager
) -> dict[str, Any]:
    """An account, checked as `callcenter users add` checks it; 422 names the field."""
    added = admin.add_user(
        session, body.username, body.role, body.endpoint, body.password,
        settings.password_min_length, now(), user.username,
    )  # fmt: skip
    return user_json(added)


@router.post("/users/{username}/disable")
def disable_user(username: str, session: SessionDep, user: CurrentManager) -> dict[str, Any]:
    """Disable an account: it cannot log in, its sessions and tokens end now (404 unknown)."""
    return user_json(admin.disable_user(session, username, now(), user.username))


@me_router.get("/me")
def me(user: CurrentUser) -> dict[str, Any]:
    return user_json(user)
