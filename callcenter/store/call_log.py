"""The call log as the AMI listener writes it: calls, the operators rung, what follows a call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.domain.calendar import Calendar
from callcenter.domain.calls import Call, CallState, Outcome, Ring, RingResult
from callcenter.domain.follow_ups import (
    FollowUp,
    JoinCallback,
    OpenCallback,
    callback_for,
    needs_identification,
    ticket_draft,
    what_follows,
)
from callcenter.domain.phone import normalise
from callcenter.store.models import CallbackRow, CallRingRow, CallRow, ContractRow, TicketRow
from callcenter.store.repositories import closures


def _row(session: Session, linkedid: str) -> CallRow | None:
    return session.scalar(select(CallRow).where(CallRow.linkedid == linkedid))


def save_calls(session: Session, calls: Sequence[Call], region: str = "PL") -> dict[str, CallRow]:
    """Insert or update each call's entry (keyed by Linkedid), with one query to find the
    rows and one flush. Writing the same values twice changes nothing, so a replayed stream
    gives the same log."""
    linkedids = [c.linkedid for c in calls]
    rows = {
        r.linkedid: r
        for r in session.scalars(select(CallRow).where(CallRow.linkedid.in_(linkedids)))
    }
    for call in calls:
        rows[call.linkedid] = _update(rows.get(call.linkedid), call, session, region)
    session.flush()
    return rows


def _update(row: CallRow | None, call: Call, session: Session, region: str) -> CallRow:
    if row is None:
        row = CallRow(linkedid=call.linkedid, arrived_at=call.arrived, caller_raw=call.caller_raw)
        session.add(row)
    row.arrived_at = min(row.arrived_at, call.arrived)
    row.caller_raw = row.caller_raw or call.caller_raw
    row.caller_name = call.caller_name or row.caller_name
    row.dialled = row.dialled or call.dialled
    if row.caller_e164 is None and call.caller_raw:
        row.caller_e164 = normalise(call.caller_raw, region).e164
    if call.reason == "fail_open" or row.route is None:
        # What the dialplan did: the routing service's answer, or its own fail-open.
        row.route = call.route or row.route
        row.reason = call.reason or row.reason
    row.contract = row.contract or call.contract
    row.state = call.state.value
    row.queued_at = call.queued
    row.answered_at = call.answered
    row.ended_at = call.ended
    row.wait_s = call.wait_seconds
    row.talk_s = call.talk_seconds
    row.operator = call.operator
    row.outcome = call.outcome.value if call.outcome else None
    row.hangup_cause = call.hangup_cause
    wanted = [_ring_values(i, r) for i, r in enumerate(call.rings)]
    if [_row_values(r) for r in row.rings] != wanted:  # rows are built only when they change
        row.rings = [CallRingRow(**values) for values in wanted]
    return row


def _ring_values(position: int, ring: Ring) -> dict[str, object]:
    """A ring as its call_rings row holds it."""
    return {
        "position": position,
        "endpoint": ring.endpoint,
        "started_at": ring.started,
        "seconds": ring.seconds,
        "result": ring.result.value,
    }


def _row_values(row: CallRingRow) -> dict[str, object]:
    return {
        "position": row.position,
        "endpoint": row.endpoint,
        "started_at": row.started_at,
        "seconds": row.seconds,
        "result": row.result,
    }


def load_call(row: CallRow) -> Call:
    return Call(
        linkedid=row.linkedid,
        state=CallState(row.state),
        arrived=row.arrived_at,
        caller_raw=row.caller_raw,
        caller_name=row.caller_name,
        dialled=row.dialled,
        route=row.route,
        reason=row.reason,
        contract=row.contract,
        queued=row.queued_at,
        answered=row.answered_at,
        ended=row.ended_at,
        operator=row.operator,
        rings=tuple(
            Ring(r.endpoint, r.started_at, r.seconds, RingResult(r.result)) for r in row.rings
        ),
        hangup_cause=row.hangup_cause,
        outcome=Outcome(row.outcome) if row.outcome else None,
    )


def unfinished_calls(session: Session) -> list[Call]:
    """Calls the log has seen start but not end: to reconcile after a gap or a restart."""
    rows = session.scalars(
        select(CallRow).where(
            CallRow.ended_at.is_(None), CallRow.state != "ended", CallRow.direction == "inbound"
        )
    )
    return [load_call(row) for row in rows]


@dataclass(frozen=True)
class FollowUpIds:
    callback_id: int | None
    ticket_id: int | None


@dataclass(frozen=True)
class Identified:
    """Who a call without a routing decision turned out to be (services identify it)."""

    covered: bool
    contract: str | None


def unidentified(
    calls: Sequence[Call], rows: Mapping[str, CallRow]
) -> list[tuple[str, str, datetime]]:
    """(Linkedid, caller as given, arrival) of the ended calls the rules must identify
    first (domain/follow_ups.needs_identification)."""
    return [
        (c.linkedid, rows[c.linkedid].caller_raw, rows[c.linkedid].arrived_at)
        for c in calls
        if c.state is CallState.ENDED
        and needs_identification(rows[c.linkedid].decided_at, rows[c.linkedid].reason)
    ]


def follow_ups(
    session: Session,
    calls: Sequence[Call],
    rows: Mapping[str, CallRow],
    callback_window: timedelta,
    identified: Mapping[str, Identified] | None = None,
) -> dict[str, FollowUpIds]:
    """Save what follows each ended call (domain/follow_ups.py decides; idempotent). The
    ticket drafts of a batch are looked up and written together (a few statements for the
    batch, not a few per call); callbacks one by one, in order, since a repeat call joins
    the open callback of an earlier one."""
    ended = [(c, rows[c.linkedid]) for c in calls if c.state is CallState.ENDED]
    for linkedid, found in (identified or {}).items():
        row = rows[linkedid]
        row.covered = found.covered
        row.contract = row.contract or found.contract
    kinds = {c.linkedid: what_follows(c, row.covered, row.caller_e164) for c, row in ended}
    drafts = _ticket_drafts(
        session, [(c, r) for c, r in ended if kinds[c.linkedid] is FollowUp.TICKET_DRAFT]
    )
    calendar: Calendar | None = None
    done: dict[str, FollowUpIds] = {}
    for call, row in ended:
        kind = kinds[call.linkedid]
        if kind is FollowUp.TICKET_DRAFT:
            done[call.linkedid] = FollowUpIds(None, drafts[call.linkedid])
        elif kind is FollowUp.CALLBACK:
            if calendar is None:
                calendar = Calendar(closures=closures(session))
            callback_id = _callback(session, row, call, callback_window, calendar)
            done[call.linkedid] = FollowUpIds(callback_id, None)
        else:
            done[call.linkedid] = FollowUpIds(row.callback_id, None)
    return done


def _ticket_drafts(session: Session, answered: Sequence[tuple[Call, CallRow]]) -> dict[str, int]:
    """Each answered call's ticket draft (by Linkedid): the one it has, or a new one."""
    if not answered:
        return {}
    session.flush()  # new call rows get their ids
    ids = [row.id for _, row in answered]
    existing: dict[int | None, int] = {
        call_id: ticket_id
        for call_id, ticket_id in session.execute(
            select(TicketRow.call_id, TicketRow.id).where(TicketRow.call_id.in_(ids))
        )
    }
    numbers = {row.contract for _, row in answered if row.contract}
    contract_ids: dict[str, int] = {
        number: contract_id
        for number, contract_id in session.execute(
            select(ContractRow.number, ContractRow.id).where(ContractRow.number.in_(numbers))
        )
    }
    new: dict[str, TicketRow] = {}
    for call, row in answered:
        if row.id in existing:
            continue
        draft = ticket_draft(call)
        new[call.linkedid] = TicketRow(
            status=draft.status,
            contract_id=contract_ids.get(row.contract) if row.contract else None,
            kind=draft.kind,
            received_at=draft.received_at,
            answered_at=None,
            description="",
            site_url="",
            other_site=False,
            call_id=row.id,
            operator=draft.operator,
            created_at=draft.created_at,
        )
    session.add_all(new.values())
    session.flush()
    return {
        call.linkedid: new[call.linkedid].id if call.linkedid in new else existing[row.id]
        for call, row in answered
    }


def _callback(
    session: Session, row: CallRow, call: Call, window: timedelta, calendar: Calendar
) -> int:
    if row.callback_id is not None:
        return row.callback_id
    assert row.caller_e164 is not None
    newest = session.scalar(
        select(CallbackRow)
        .where(CallbackRow.caller_e164 == row.caller_e164, CallbackRow.done_at.is_(None))
        .order_by(CallbackRow.last_call_at.desc(), CallbackRow.id.desc())
        .limit(1)
    )
    open_one = (
        None
        if newest is None
        else OpenCallback(newest.id, newest.last_call_at, newest.calls, newest.requested)
    )
    change = callback_for(call, row.caller_e164, row.contract, open_one, window, calendar)
    if isinstance(change, JoinCallback):
        assert newest is not None
        newest.last_call_at, newest.calls = change.last_call_at, change.calls
        newest.requested = change.requested
        row.callback_id = newest.id
        return newest.id
    callback = CallbackRow(
        caller_e164=change.caller_e164,
        contract=change.contract,
        first_call_at=change.first_call_at,
        last_call_at=change.last_call_at,
        calls=change.calls,
        due_at=change.due_at,
        created_at=change.created_at,
        requested=change.requested,
    )
    session.add(callback)
    session.flush()
    row.callback_id = callback.id
    return callback.id


def calls_since(session: Session, since: datetime | None, limit: int = 1000) -> list[CallRow]:
    query = select(CallRow).order_by(CallRow.arrived_at.desc(), CallRow.id.desc()).limit(limit)
    if since is not None:
        query = query.where(CallRow.arrived_at >= since)
    return list(session.scalars(query))


def call_row(session: Session, key: str) -> CallRow | None:
    """A call by its log id (a number) or its Linkedid."""
    if key.isdigit():
        found = session.get(CallRow, int(key))
        if found is not None:
            return found
    return _row(session, key)


def callbacks(session: Session, open_only: bool = True) -> Iterable[CallbackRow]:
    query = select(CallbackRow).order_by(CallbackRow.due_at)
    if open_only:
        query = query.where(CallbackRow.done_at.is_(None))
    return session.scalars(query)


def live_calls(session: Session, endpoint: str | None) -> list[CallRow]:
    """Calls not ended that ring at `endpoint` now or were answered there (every endpoint
    with None), oldest first: what a screen opened now must show."""
    query = (
        select(CallRow)
        .where(CallRow.ended_at.is_(None), CallRow.state != "ended")
        .order_by(CallRow.arrived_at, CallRow.id)
    )
    if endpoint is not None:
        ringing = select(CallRingRow.call_id).where(
            CallRingRow.endpoint == endpoint, CallRingRow.result == "ringing"
        )
        query = query.where(
            (CallRow.id.in_(ringing))
            | ((CallRow.operator == endpoint) & (CallRow.state == "answered"))
        )
    return list(session.scalars(query))
