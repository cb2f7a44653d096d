"""`/api/calls/{id}`: one call's log entry, with the ticket taken on it (never its access
data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from callcenter.render import call_json
from callcenter.store import call_log
from callcenter.store import tickets as ticket_store
from callcenter.store.repositories import NotFoundError
from callcenter.web.api.tickets import ticket_json
from callcenter.web.deps import SessionDep, any_user

router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(any_user)])


@router.get("/calls/{call_id}")
def one(call_id: int, session: SessionDep) -> dict[str, Any]:
    row = call_log.call_row(session, str(call_id))
    if row is None or row.id != call_id:
        raise NotFoundError(f"no call #{call_id}")
    ticket = ticket_store.call_ticket(session, row.id)
    return {**call_json(row), "ticket": ticket_json(ticket) if ticket else None}
