"""The call log in the API.

`GET /api/calls/{id}` (any user: the operator's screen reads it): one call's log entry with
the ticket taken on it (never its access data), the callback it made with that callback's
attempts (`callback_entry`), and its `timeline`, every step with its time.

Managers: `GET /api/calls` (a filtered page, newest first, keyset-paged: `{calls, next}`)
and `GET /api/calls.csv` (every call of the filter as CSV, streamed). The filters are
`call_filters`'s; a bad one answers 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from callcenter import call_log_view
from callcenter.call_filters import parse_filter, parse_query
from callcenter.store.repositories import NotFoundError
from callcenter.web.api.tickets import ticket_json
from callcenter.web.deps import SessionDep, SettingsDep, any_user, manager
from callcenter.web.review_params import RowId

router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(any_user)])
log_router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(manager)])

Text = Annotated[str | None, Query()]


def log_params(
    since: Annotated[str | None, Query(description="ISO 8601, naive: Warsaw")] = None,
    until: Annotated[str | None, Query(description="exclusive; a date: to its end")] = None,
    outcome: Text = None,
    route: Text = None,
    reason: Text = None,
    contract: Text = None,
    operator: Text = None,
    number: Annotated[str | None, Query(description="the caller's number, any form")] = None,
    direction: Annotated[str | None, Query(description="inbound or callback")] = None,
    cursor: Annotated[str | None, Query(description="`next` of the page before")] = None,
    limit: Annotated[str | None, Query(description="1..500, default 50")] = None,
) -> dict[str, str | None]:
    """The call log's query parameters, as sent (checked by `call_filters`)."""
    return {
        "since": since, "until": until, "outcome": outcome, "route": route, "reason": reason,
        "contract": contract, "operator": operator, "number": number, "direction": direction,
        "cursor": cursor, "limit": limit,
    }  # fmt: skip


LogParams = Annotated[dict[str, str | None], Depends(log_params)]


@log_router.get("/calls")
def calls(params: LogParams, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """A page of the call log, newest first; `next` is the cursor of the next page."""
    return call_log_view.log_page(session, parse_query(params, settings.region))


@log_router.get("/calls.csv", response_class=StreamingResponse)
def calls_csv(request: Request, params: LogParams, settings: SettingsDep) -> StreamingResponse:
    """Every call of the filter as CSV (UTF-8, a header row, formula-like cells made text),
    streamed whatever the size."""
    f = parse_filter(params, settings.region)
    lines = call_log_view.csv_lines(request.app.state.sessions, f)
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="polaczenia.csv"'},
    )


@router.get("/calls/{call_id}")
def one(call_id: RowId, session: SessionDep) -> dict[str, Any]:
    found = call_log_view.call_detail(session, call_id, ticket_json)
    if found is None:
        raise NotFoundError(f"no call #{call_id}")
    return found
