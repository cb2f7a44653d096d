"""`/api/users`: the accounts (managers only); `/api/me`: your own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from callcenter.render import user_json
from callcenter.store import users as store
from callcenter.web.deps import CurrentUser, SessionDep, any_user, manager

router = APIRouter(prefix="/api", tags=["users"], dependencies=[Depends(manager)])
me_router = APIRouter(prefix="/api", tags=["users"], dependencies=[Depends(any_user)])


@router.get("/users")
def list_users(session: SessionDep) -> list[dict[str, Any]]:
    return [user_json(u) for u in store.users(session)]


@me_router.get("/me")
def me(user: CurrentUser) -> dict[str, Any]:
    return user_json(user)
