"""Open callbacks as the operator's list reads them (rows never leave this module)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from callcenter.domain.callback_list import Callback
from callcenter.store.models import CallbackRow, CallRingRow, CallRow


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
    return [
        Callback(
            id=row.id,
            caller=row.caller_e164,
            contract=row.contract,
            first_call_at=row.first_call_at,
            last_call_at=row.last_call_at,
            calls=row.calls,
            due_at=row.due_at,
        )
        for row in session.scalars(query.order_by(CallbackRow.due_at, CallbackRow.id))
    ]
