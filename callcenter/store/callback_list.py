"""Open callbacks as the operator's list reads them (rows never leave this module)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from callcenter.domain.callback_list import Callback
from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRingRow, CallRow


def open_callbacks(session: Session, endpoint: str | None = None) -> list[Callback]:
    """Callbacks not yet done. With an endpoint: those whose calls rang that endpoint, and
    those whose calls rang no one (missed while closed, or given up in the queue)."""
    query = select(CallbackRow).where(CallbackRow.done_at.is_(None))
    if endpoint is not None:
        rang = (
            select(CallRow.id)
            .join(CallRingRow, CallRingRow.call_id == CallRow.id)
            .where(CallRow.callback_id == CallbackRow.id)
        )
        query = query.where(
            or_(
                exists(rang.where(CallRingRow.endpoint == endpoint)),
                ~exists(rang),
            )
        )
    rows = list(session.scalars(query.order_by(CallbackRow.due_at, CallbackRow.id)))
    newest = _newest_attempts(session, [row.id for row in rows])
    return [_callback(row, newest.get(row.id)) for row in rows]


def callback(session: Session, callback_id: int) -> Callback | None:
    """One callback (open or done), with its newest attempt."""
    row = session.get(CallbackRow, callback_id)
    if row is None:
        return None
    return _callback(row, _newest_attempts(session, [row.id]).get(row.id))


def _newest_attempts(session: Session, ids: list[int]) -> dict[int, CallbackAttemptRow]:
    if not ids:
        return {}
    found: dict[int, CallbackAttemptRow] = {}
    query = (
        select(CallbackAttemptRow)
        .where(CallbackAttemptRow.callback_id.in_(ids))
        .order_by(CallbackAttemptRow.id)
    )
    for attempt in session.scalars(query):
        found[attempt.callback_id] = attempt  # the later one wins
    return found


def _callback(row: CallbackRow, attempt: CallbackAttemptRow | None) -> Callback:
    return Callback(
        id=row.id,
        caller=row.caller_e164,
        contract=row.contract,
        first_call_at=row.first_call_at,
        last_call_at=row.last_call_at,
        calls=row.calls,
        due_at=row.due_at,
        requested=bool(row.requested),
        attempts=row.attempts or 0,
        last_result=attempt.result if attempt is not None else None,
        under_way=attempt is not None and attempt.ended_at is None,
        done_at=row.done_at,
    )
