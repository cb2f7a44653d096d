"""The call log as the AMI listener writes it: calls, the operators rung, what follows a call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from callcenter.domain.calendar import Calendar
from callcenter.domain.calls import (
    Call,
    CallState,
    Outcome,
    QueueFacts,
    Ring,
    RingResult,
    moves_forward,
)
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

log = logging.getLogger(__name__)


def _row(session: Session, linkedid: str) -> CallRow | None:
    return session.scalar(select(CallRow).where(CallRow.linkedid == linkedid))


def save_calls(session: Session, calls: Sequence[Call], region: str = "PL") -> dict[str, CallRow]:
    """Insert or update each call's entry (keyed by Linkedid), with one query to find the
    rows and one flush; the rows written, by Linkedid. An entry only moves forward: a call
    whose entry is final, or in a later state, is older facts and leaves it as it is (and
    out of the rows returned: nothing follows it again). Writing the same values twice
    changes nothing, so a replayed stream gives the same log.

    An entry found is updated in the statements of the batch (only the columns whose value
    changed, one statement per set of such columns), not row by row through the session's
    unit of work; its rows returned hold the new values. Rings that changed are replaced
    likewise (one delete and one insert for the batch)."""
    linkedids = [c.linkedid for c in calls]
    found = {
        r.linkedid: r
        for r in session.scalars(select(CallRow).where(CallRow.linkedid.in_(linkedids)))
    }
    written: dict[str, CallRow] = {}
    changes: list[dict[str, object]] = []
    rings: list[tuple[CallRow, list[dict[str, object]]]] = []
    for call in calls:
        row = found.get(call.linkedid)
        if row is not None and not moves_forward(CallState(row.state), call.state):
            log.info(
                "call log entry kept call=%s logged=%s older=%s", call.linkedid, row.state,
                call.state,
            )  # fmt: skip
            continue
        values = _merged(row, call, region)
        if row is None:
            row = CallRow(**values)
            session.add(row)
        elif changed := {c: v for c, v in values.items() if getattr(row, c) != v}:
            for column, value in changed.items():
                set_committed_value(row, column, value)  # as the statement below writes it
            changes.append({"id": row.id, **changed})
        wanted = [ring_values(i, r) for i, r in enumerate(call.rings)]
        if [_ring_row_values(r) for r in row.rings] != wanted:  # built only when they change
            rings.append((row, wanted))
        written[call.linkedid] = found[call.linkedid] = row
    if changes:
        session.execute(update(CallRow), changes)  # grouped by the columns each one sets
    session.flush()  # new entries get their ids
    _replace_rings(session, rings)
    return written


def _merged(row: CallRow | None, call: Call, region: str) -> dict[str, object]:
    """The entry's columns for `call`, merged with what the entry has (the routing
    service's decision may be first)."""
    values = call_values(call)
    if row is not None:
        values["arrived_at"] = min(row.arrived_at, call.arrived)
        values["caller_raw"] = row.caller_raw or call.caller_raw
        values["caller_name"] = call.caller_name or row.caller_name
        values["dialled"] = row.dialled or call.dialled
        values["contract"] = row.contract or call.contract
        if call.reason != "fail_open" and row.route is not None:
            # What the dialplan did: the routing service's answer, or its own fail-open.
            values["route"], values["reason"] = row.route, row.reason
        else:
            values["route"] = call.route or row.route
            values["reason"] = call.reason or row.reason
    if (row is None or row.caller_e164 is None) and call.caller_raw:
        values["caller_e164"] = normalise(call.caller_raw, region).e164
    return values


def _replace_rings(
    session: Session, rings: Sequence[tuple[CallRow, list[dict[str, object]]]]
) -> None:
    """Each entry's rings replaced by the wanted ones: one delete, one insert."""
    if not rings:
        return
    if old := [row.id for row, _ in rings if row.rings]:
        # (an ORM delete: the session drops the ring rows it holds that match)
        session.execute(delete(CallRingRow).where(CallRingRow.call_id.in_(old)))
    new = [{"call_id": row.id, **values} for row, wanted in rings for values in wanted]
    if new:
        session.execute(insert(CallRingRow), new)
    for row, _ in rings:
        session.expire(row, ["rings"])  # read again if asked for


# --- the one mapping between a Call (and its rings) and its rows -----------------------------

# (the Call's field, its column in `calls`); `queue.x` is field x of the call's QueueFacts.
CALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("linkedid", "linkedid"),
    ("state", "state"),
    ("arrived", "arrived_at"),
    ("caller_raw", "caller_raw"),
    ("caller_name", "caller_name"),
    ("dialled", "dialled"),
    ("route", "route"),
    ("reason", "reason"),
    ("contract", "contract"),
    ("queued", "queued_at"),
    ("answered", "answered_at"),
    ("ended", "ended_at"),
    ("operator", "operator"),
    ("hangup_cause", "hangup_cause"),
    ("outcome", "outcome"),
    ("queue.left", "queue_left_at"),
    ("queue.abandoned", "queue_abandoned"),
    ("queue.status", "queue_status"),
)
# (the Ring's field, its column in `call_rings`), besides the ring's position in the call.
RING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("endpoint", "endpoint"),
    ("started", "started_at"),
    ("seconds", "seconds"),
    ("result", "result"),
)
# A column's text as the value of the field (the enums); other values are kept as they are.
_LOAD: dict[str, Callable[[Any], Any]] = {
    "state": CallState,
    "outcome": lambda text: Outcome(text) if text else None,
    "result": RingResult,
}


def _same(value: Any) -> Any:
    return value


def _dump(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def call_values(call: Call) -> dict[str, object]:
    """The call as its `calls` row's columns (the derived ones included)."""
    values = {
        column: _dump(getattr(call.queue if field.startswith("queue.") else call,
                              field.removeprefix("queue.")))
        for field, column in CALL_COLUMNS
    }  # fmt: skip
    values["wait_s"] = call.wait_seconds
    values["talk_s"] = call.talk_seconds
    return values


def ring_values(position: int, ring: Ring) -> dict[str, object]:
    """A ring as its `call_rings` row's columns."""
    return {"position": position} | {
        column: _dump(getattr(ring, field)) for field, column in RING_COLUMNS
    }


def _ring_row_values(row: CallRingRow) -> dict[str, object]:
    return {"position": row.position} | {column: getattr(row, column) for _, column in RING_COLUMNS}


def load_call(row: CallRow) -> Call:
    """The call a `calls` row holds: everything the tracker needs to follow it on."""
    fields: dict[str, Any] = {}
    queue: dict[str, Any] = {}
    for field, column in CALL_COLUMNS:
        value = _LOAD.get(column, _same)(getattr(row, column))
        if field.startswith("queue."):
            queue[field.removeprefix("queue.")] = value
        else:
            fields[field] = value
    rings = tuple(
        Ring(**{f: _LOAD.get(c, _same)(getattr(r, c)) for f, c in RING_COLUMNS}) for r in row.rings
    )
    return Call(**fields, rings=rings, queue=QueueFacts(**queue))


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
        and c.linkedid in rows  # a final call left as it was is not followed again
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
    # A call missing from `rows` left a final entry as it was: it was followed already.
    ended = [
        (c, rows[c.linkedid]) for c in calls if c.state is CallState.ENDED and c.linkedid in rows
    ]
    for linkedid, found in (identified or {}).items():
        row = rows.get(linkedid)
        if row is None:  # final already: nothing follows it again
            continue
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
    new: list[dict[str, Any]] = []
    for call, row in answered:
        if row.id in existing:
            continue
        draft = ticket_draft(call)
        new.append({
            "status": draft.status,
            "contract_id": contract_ids.get(row.contract) if row.contract else None,
            "kind": draft.kind,
            "received_at": draft.received_at,
            "answered_at": None,
            "description": "",
            "site_url": "",
            "other_site": False,
            "call_id": row.id,
            "operator": draft.operator,
            "created_at": draft.created_at,
        })  # fmt: skip
    if new:  # one statement for the batch's drafts, their ids back
        inserted = session.execute(
            insert(TicketRow).returning(TicketRow.call_id, TicketRow.id), new
        )
        existing.update((call_id, ticket_id) for call_id, ticket_id in inserted)
    return {call.linkedid: existing[row.id] for call, row in answered}


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
