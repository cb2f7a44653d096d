"""Callback attempts in the store: starting one, and what the ended call leaves behind
(the attempt's result, the callback's progress, the call log's outbound entry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.domain.callbacks import (
    AttemptResult,
    CallbackProgress,
    OutboundCall,
    OutboundState,
    after_attempt,
    attempt_linkedid,
    refusal,
)
from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRingRow, CallRow

DIRECTION = "callback"  # calls.direction of an attempt's call


class CallbackError(ValueError):
    """This callback cannot be called back now (unknown, done, under way)."""


@dataclass(frozen=True)
class StartedAttempt:
    attempt_id: int
    callback_id: int
    linkedid: str
    number: str
    contract: str | None


def start_attempt(
    session: Session, callback_id: int, operator: str, now: datetime, token: str
) -> StartedAttempt:
    """A new attempt row for the callback (checked by the rules first)."""
    callback = session.get(CallbackRow, callback_id)
    if callback is None:
        raise CallbackError(f"callback {callback_id} does not exist")
    running = session.scalar(
        select(CallbackAttemptRow.started_at)
        .where(CallbackAttemptRow.callback_id == callback_id, CallbackAttemptRow.ended_at.is_(None))
        .order_by(CallbackAttemptRow.started_at.desc())
        .limit(1)
    )
    why = refusal(callback.done_at, running, now)
    if why is not None:
        raise CallbackError(f"callback {callback_id} {why}")
    row = CallbackAttemptRow(
        callback_id=callback_id, operator=operator, linkedid=f"pending-{token}", started_at=now
    )
    session.add(row)
    session.flush()
    row.linkedid = attempt_linkedid(row.id, token)
    return StartedAttempt(
        row.id, callback_id, row.linkedid, callback.caller_e164, callback.contract
    )


def fail_attempt(session: Session, attempt_id: int, now: datetime) -> None:
    """The Originate was never placed: the attempt ends `failed` (not counted)."""
    row = session.get(CallbackAttemptRow, attempt_id)
    if row is not None and row.ended_at is None:
        row.ended_at, row.result = now, AttemptResult.FAILED.value


def save_outbound(session: Session, calls: Sequence[OutboundCall]) -> None:
    """Each attempt's call into the call log (direction `callback`); an ended one also
    ends its attempt and moves its callback on. Idempotent: an attempt ends once."""
    for call in calls:
        attempt = session.get(CallbackAttemptRow, call.attempt_id)
        if attempt is None or attempt.linkedid != call.linkedid:
            continue  # not one of ours (another database's attempt with the same id)
        callback = session.get(CallbackRow, attempt.callback_id)
        assert callback is not None
        _log_call(session, call, callback)
        if call.result is None or attempt.ended_at is not None:
            continue
        attempt.ended_at = call.ended or call.started
        attempt.result = call.result.value
        progress = after_attempt(
            CallbackProgress(callback.attempts, callback.done_at), call.result, attempt.ended_at
        )
        callback.attempts, callback.done_at = progress.attempts, progress.done_at
    session.flush()


def _log_call(session: Session, call: OutboundCall, callback: CallbackRow) -> None:
    row = session.scalar(select(CallRow).where(CallRow.linkedid == call.linkedid))
    if row is None:
        row = CallRow(linkedid=call.linkedid, arrived_at=call.started, direction=DIRECTION)
        session.add(row)
    row.direction = DIRECTION
    row.caller_raw = row.caller_e164 = callback.caller_e164  # the customer called back
    row.contract = callback.contract
    row.callback_id = callback.id
    row.covered = True
    row.state = "ended" if call.state is OutboundState.ENDED else call.state.value
    row.answered_at = call.answered
    row.ended_at = call.ended
    row.talk_s = call.talk_seconds
    row.operator = call.operator
    row.outcome = call.result.value if call.result else None
    row.hangup_cause = call.hangup_cause
    if call.operator and not row.rings:
        row.rings = [CallRingRow(position=0, endpoint=call.operator, started_at=call.started,
                                 result="ringing")]  # fmt: skip
    if row.rings:
        ring = row.rings[0]
        ring.seconds = call.ring_seconds
        ring.result = _ring_result(call)


def _ring_result(call: OutboundCall) -> str:
    """The operator's ring, in the call log's words (RingResult)."""
    if call.operator_answered is not None:
        return "answered"
    return "ringing" if call.ended is None else "no_answer"


def attempts_of(session: Session, callback_id: int) -> list[CallbackAttemptRow]:
    return list(
        session.scalars(
            select(CallbackAttemptRow)
            .where(CallbackAttemptRow.callback_id == callback_id)
            .order_by(CallbackAttemptRow.id)
        )
    )
