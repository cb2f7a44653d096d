"""`/users`: the accounts (managers), the page twin of `GET /api/users`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callcenter.render import user_json
from callcenter.store import users as store
from callcenter.web.deps import SessionDep, manager
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)


@router.get("/users")
def users_page(request: Request, session: SessionDep) -> HTMLResponse:
    return page(request, "users.html", {"users": [user_json(u) for u in store.users(session)]})
