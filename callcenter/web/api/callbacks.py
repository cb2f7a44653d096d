"""`/api/callbacks`: the callbacks an operator has to return (by due time, overdue and
asked-for ones marked), and "Oddzwoń": one click places the call through the AMI (the
operator's own phone rings first, then the customer's number; pbx/callbacks.call_back).

The attempt's result (reached, no answer, busy, ...) arrives later, recorded by the listener
from Asterisk's events: the screen reads it back with `GET /api/callbacks/{id}`.
"""

from __future__ import annotations

from typing import Any

import anyio.from_thread
from fastapi import APIRouter, Depends, Request

from callcenter import desk
from callcenter.domain.callback_list import DueCallback
from callcenter.pbx.callbacks import call_back
from callcenter.store.callbacks import CallbackError
from callcenter.web.deps import CurrentOperator, SessionDep, now, operator
from callcenter.web.dialer import Dialer
from callcenter.web.review_params import RowId

router = APIRouter(prefix="/api", tags=["callbacks"], dependencies=[Depends(operator)])


def callback_json(item: DueCallback) -> dict[str, Any]:
    c = item.callback
    return {
        "id": c.id,
        "number": c.caller,
        "contract": c.contract,
        "calls": c.calls,
        "first_call": c.first_call_at.isoformat(),
        "last_call": c.last_call_at.isoformat(),
        "due": c.due_at.isoformat(),
        "overdue": item.overdue,
        "requested": c.requested,
        "attempts": c.attempts,
        "last_result": c.last_result,
        "under_way": c.under_way,
        "done": c.done_at.isoformat() if c.done_at else None,
    }


@router.get("/callbacks")
def due(session: SessionDep, user: CurrentOperator) -> list[dict[str, Any]]:
    """The open callbacks of this operator's phone (and those no operator was rung for)."""
    return [callback_json(c) for c in desk.callbacks_due(session, now(), user.endpoint)]


@router.get("/callbacks/{callback_id}")
def one(callback_id: RowId, session: SessionDep) -> dict[str, Any]:
    return callback_json(desk.callback_due(session, callback_id, now()))


@router.post("/callbacks/{callback_id}/call", status_code=202)
def call(
    callback_id: RowId, request: Request, session: SessionDep, user: CurrentOperator
) -> dict[str, Any]:
    """Place the callback's call now; answers at once with the attempt's id (the call goes
    on). 503 when this process has no AMI connection (`callcenter web` alone)."""
    dialer: Dialer = request.app.state.dialer
    client = dialer.client()
    if not user.endpoint:
        raise CallbackError("this operator has no phone (endpoint) to ring first")
    # The login's unit of work ends here: the attempt is written by call_back's own.
    session.commit()
    attempt = anyio.from_thread.run(
        call_back, client, request.app.state.sessions, callback_id, user.endpoint, now()
    )
    return {"callback": callback_id, "attempt": attempt}
