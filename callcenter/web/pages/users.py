"""`/users`: the accounts (managers), the page twin of `/api/users`: list, add, disable;
each change audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenter import admin
from callcenter.render import user_json
from callcenter.store import users as store
from callcenter.store.repositories import NotFoundError
from callcenter.web import words
from callcenter.web.deps import CurrentManager, SessionDep, SettingsDep, manager, now
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

Short = Annotated[str, Form(max_length=64)]


def _page(
    request: Request, session: SessionDep, form: dict[str, str], error: Any = None
) -> HTMLResponse:
    context = {"users": [user_json(u) for u in store.users(session)], "form": form,
               "error": error}  # fmt: skip
    return page(request, "users.html", context, 422 if error else 200)


@router.get("/users")
def users_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, session, {"username": "", "role": "operator", "endpoint": ""})


@router.post("/users")
def add_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentManager,
    username: Short = "",
    role: Short = "",
    endpoint: Short = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    form = {"username": username, "role": role, "endpoint": endpoint}  # never the password
    try:
        admin.add_user(session, username, role, endpoint or None, password,
                       settings.password_min_length, now(), user.username)  # fmt: skip
    except admin.AdminInputError as exc:
        error = {"field": exc.field, "text": words.ADMIN_ERRORS[exc.code]}
        return _page(request, session, form, error)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/disable")
def disable_user(
    request: Request, username: str, session: SessionDep, user: CurrentManager
) -> Response:
    form = {"username": "", "role": "operator", "endpoint": ""}
    try:
        admin.disable_user(session, username, now(), user.username)
    except admin.AdminInputError as exc:
        return _page(request, session, form, {"field": "", "text": words.ADMIN_ERRORS[exc.code]})
    except NotFoundError:
        return _page(request, session, form, {"field": "", "text": words.ADMIN_ERRORS["no_user"]})
    return RedirectResponse("/users", status_code=303)
