"""`/closures` and `/consolidations`: list and add (managers); twins of `/api/closures` and
`/api/consolidations`. A refused form comes back with the reason in Polish and what was
typed; an accepted one redirects to the list (each addition audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenter import admin
from callcenter.render import closure_json, consolidation_json
from callcenter.store import repositories as repo
from callcenter.web import words
from callcenter.web.deps import CurrentManager, SessionDep, manager, now
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

Field = Annotated[str, Form(max_length=admin.MAX_NOTE)]


def _closures(
    request: Request, session: SessionDep, form: dict[str, str], error: Any = None
) -> HTMLResponse:
    context = {
        "closures": [closure_json(c) for c in reversed(repo.closures(session))],
        "form": form,
        "error": error,
    }
    return page(request, "closures.html", context, 422 if error else 200)


@router.get("/closures")
def closures_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _closures(request, session, {"from": "", "to": "", "note": ""})


@router.post("/closures")
def add_closure(
    request: Request,
    session: SessionDep,
    user: CurrentManager,
    first: Annotated[str, Form(alias="from", max_length=40)] = "",
    last: Annotated[str, Form(alias="to", max_length=40)] = "",
    note: Field = "",
) -> Response:
    form = {"from": first, "to": last, "note": note}
    try:
        start, end = admin.parse_day("from", first), admin.parse_day("to", last)
        admin.add_closure(session, start, end, note, now(), user.username)
    except admin.AdminInputError as exc:
        error = {"field": exc.field, "text": words.ADMIN_ERRORS[exc.code]}
        return _closures(request, session, form, error)
    return RedirectResponse("/closures", status_code=303)


def _consolidations(
    request: Request, session: SessionDep, form: dict[str, str], error: Any = None
) -> HTMLResponse:
    grants = sorted(repo.consolidations(session, None), key=lambda g: g.day, reverse=True)
    context = {
        "consolidations": [consolidation_json(g) for g in grants],
        "form": form,
        "error": error,
    }
    return page(request, "consolidations.html", context, 422 if error else 200)


@router.get("/consolidations")
def consolidations_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _consolidations(request, session, {"contract": "", "day": "", "days": "", "note": ""})


@router.post("/consolidations")
def add_consolidation(
    request: Request,
    session: SessionDep,
    user: CurrentManager,
    contract: Annotated[str, Form(max_length=64)] = "",
    day: Annotated[str, Form(max_length=40)] = "",
    days: Annotated[str, Form(max_length=10)] = "",
    note: Field = "",
) -> Response:
    form = {"contract": contract, "day": day, "days": days, "note": note}
    try:
        when = admin.parse_day("day", day)
        if not days.strip().isdigit():
            raise admin.AdminInputError("days", "days", "days: a whole number")
        admin.grant_consolidation(session, contract, when, int(days), note, now(), user.username)
    except admin.AdminInputError as exc:
        error = {"field": exc.field, "text": words.ADMIN_ERRORS[exc.code]}
        return _consolidations(request, session, form, error)
    except repo.NotFoundError:
        error = {"field": "contract", "text": words.ADMIN_ERRORS["no_contract"]}
        return _consolidations(request, session, form, error)
    return RedirectResponse("/consolidations", status_code=303)
