"""`/tickets`, `/tickets/{id}`, `/callbacks`: the manager's review pages, twins of
`GET /api/tickets`, `GET /api/callbacks/all` (callcenter/web/api/review.py), built from the
same service calls and the same JSON. "Oznacz jako odpowiedziane" is a plain form POST
(`/tickets/{id}/answer`, with the session's CSRF token) that goes back to the list or the
ticket it came from."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenter import review
from callcenter.domain.calendar import warsaw
from callcenter.store import tickets as ticket_store
from callcenter.store.repositories import NotFoundError
from callcenter.store.tickets import TicketConflictError
from callcenter.web import words
from callcenter.web.api.review import callback_item_json, ticket_item_json
from callcenter.web.deps import CurrentManager, SessionDep, manager, now
from callcenter.web.review_params import (
    ParamError,
    RowId,
    callback_query,
    form_values,
    ticket_query,
)
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

TICKET_FIELDS = ("contract", "kind", "state", "since", "until")
CALLBACK_FIELDS = ("contract", "state", "since", "until")
# The Polish names of the filters, for a refused value.
PARAM_NAMES = {
    "contract": "Umowa",
    "kind": "Rodzaj",
    "state": "Stan",
    "since": "Od dnia",
    "until": "Do dnia",
    "after": "Strona",
    "limit": "Liczba na stronie",
}


def _words() -> dict[str, Any]:
    return {
        "kinds": words.KINDS,
        "attempt_outcomes": words.ATTEMPT_OUTCOMES,
        "ticket_states": words.TICKET_STATES,
        "callback_states": words.CALLBACK_STATES,
        "outcomes": words.OUTCOMES,
    }


def _refused(error: ParamError) -> str:
    return f"Nieprawidłowa wartość pola „{PARAM_NAMES.get(error.field, error.field)}”."


def _here(request: Request) -> str:
    """This page's path and query (a local link back to it)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _next_url(request: Request, cursor: str | None) -> str | None:
    """This page's filters with the next page's cursor."""
    if cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    return f"{request.url.path}?{urlencode([*kept, ('after', cursor)])}"


@router.get("/tickets")
def tickets_page(request: Request, session: SessionDep) -> HTMLResponse:
    items = request.query_params.multi_items()
    values = form_values(items, TICKET_FIELDS)
    context: dict[str, Any] = {"form": values, "words": _words(), "tickets": [], "next": None}
    try:
        query = ticket_query(items)
    except ParamError as error:
        return page(request, "tickets.html", {**context, "error": _refused(error)}, 422)
    found, following = review.ticket_page(session, query.filter, query.after, query.limit, now())
    context["tickets"] = [ticket_item_json(i) for i in found]
    context["next"] = _next_url(request, following.encode() if following else None)
    context["back"] = _here(request)
    return page(request, "tickets.html", context)


@router.get("/tickets/{ticket_id}")
def ticket_page(request: Request, ticket_id: RowId, session: SessionDep) -> HTMLResponse:
    try:
        item = review.ticket_item(session, ticket_id, now())
    except NotFoundError:
        return page(request, "notice.html", {"title": "Nie ma takiego zgłoszenia",
                                             "back": "/tickets"}, 404)  # fmt: skip
    return page(
        request,
        "ticket.html",
        {"t": ticket_item_json(item), "words": _words(), "back": f"/tickets/{ticket_id}"},
    )


def _safe_back(back: str) -> str:
    """Where to go after the answer: a path of the tickets pages only (no other site)."""
    ok = (
        back.startswith("/tickets")
        and not back.startswith("//")
        and back.isascii()
        and back.isprintable()
        and "\\" not in back
        and len(back) <= 2000
    )
    return back if ok else "/tickets"


@router.post("/tickets/{ticket_id}/answer")
def answer(
    request: Request,
    ticket_id: RowId,
    session: SessionDep,
    user: CurrentManager,
    back: Annotated[str, Form(max_length=2000)] = "/tickets",
) -> Response:
    """One click: the ticket is answered now; back to where the click came from."""
    try:
        review.answer_ticket(session, ticket_id, user.username, now())
    except TicketConflictError:
        current = ticket_store.ticket(session, ticket_id)
        if current.answered_at is None:
            title, text = "Zgłoszenie jest szkicem", "Operator nie zapisał jeszcze tego zgłoszenia."
        else:
            title = "Zgłoszenie ma już odpowiedź"
            text = (
                f"Odpowiedź zapisano {warsaw(current.answered_at):%Y-%m-%d %H:%M}; "
                "ponowne oznaczenie niczego nie zmienia."
            )
        context = {"title": title, "text": text, "back": _safe_back(back)}
        return page(request, "notice.html", context, 409)
    except NotFoundError:
        return page(request, "notice.html", {"title": "Nie ma takiego zgłoszenia",
                                             "back": "/tickets"}, 404)  # fmt: skip
    return RedirectResponse(f"{_safe_back(back)}#ticket-{ticket_id}", status_code=303)


@router.get("/callbacks")
def callbacks_page(request: Request, session: SessionDep) -> HTMLResponse:
    items = request.query_params.multi_items()
    values = form_values(items, CALLBACK_FIELDS)
    context: dict[str, Any] = {"form": values, "words": _words(), "callbacks": [], "next": None}
    try:
        query = callback_query(items)
    except ParamError as error:
        return page(request, "callbacks.html", {**context, "error": _refused(error)}, 422)
    found, following = review.callback_page(session, query.filter, query.after, query.limit, now())
    context["callbacks"] = [callback_item_json(i) for i in found]
    context["next"] = _next_url(request, following.encode() if following else None)
    return page(request, "callbacks.html", context)
