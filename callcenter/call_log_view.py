"""The manager's call log, as the pages and the API show it: a filtered page of calls, one
call with its timeline (the core's `domain.timeline` on the call's facts), the ticket it
opened and the callback it made, and the CSV of a whole filter, streamed.

Every call of a page is `render.call_json` (the fields `callcenter calls list --json`
prints); the call's page adds `ticket` (never its access data), `callback_entry` (the
callback with its attempts) and `timeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter import csv_export
from callcenter.call_filters import LogQuery
from callcenter.domain.calendar import warsaw
from callcenter.domain.timeline import (
    AttemptFact,
    CallbackFact,
    CallFacts,
    RingFact,
    Step,
    TicketFact,
    timeline,
)
from callcenter.render import call_json
from callcenter.store import call_queries
from callcenter.store import callbacks as callback_store
from callcenter.store import tickets as ticket_store
from callcenter.store.call_queries import CallFilter
from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRow
from callcenter.store.tickets import TicketView

# The CSV's columns: (header, the call's column). Times are Warsaw's, as in the JSON.
CSV_COLUMNS = (
    ("id", "id"), ("arrived", "arrived_at"), ("direction", "direction"),
    ("caller", "caller_raw"), ("caller_name", "caller_name"), ("number", "caller_e164"),
    ("contract", "contract"), ("route", "route"), ("reason", "reason"),
    ("outcome", "outcome"), ("operator", "operator"), ("queued", "queued_at"),
    ("answered", "answered_at"), ("ended", "ended_at"), ("wait_seconds", "wait_s"),
    ("talk_seconds", "talk_s"), ("callback", "callback_id"), ("hangup_cause", "hangup_cause"),
    ("linkedid", "linkedid"),
)  # fmt: skip
CSV_HEADER = tuple(header for header, _ in CSV_COLUMNS)


def log_page(session: Session, query: LogQuery) -> dict[str, Any]:
    """`{calls: [...], next: cursor or None}`: one page, newest first."""
    rows, after = call_queries.page(session, query.filter, query.after, query.limit)
    return {"calls": [call_json(r) for r in rows], "next": after.encode() if after else None}


def call_detail(
    session: Session, call_id: int, ticket_json: Callable[[TicketView], dict[str, Any]]
) -> dict[str, Any] | None:
    """One call as its page shows it, or None. `ticket_json` renders the ticket (the
    API's own rendering, which leaves the access data out)."""
    row = session.get(CallRow, call_id)
    if row is None:
        return None
    ticket = ticket_store.call_ticket(session, row.id)
    callback = session.get(CallbackRow, row.callback_id) if row.callback_id else None
    attempts = callback_store.attempts_of(session, callback.id) if callback else []
    facts = call_facts(row, ticket, callback, attempts)
    entry: dict[str, Any] | None = None
    if callback is not None and facts.callback is not None:
        entry = {
            "id": callback.id,
            "number": callback.caller_e164,
            "contract": callback.contract,
            "calls": callback.calls,
            "first_call": _iso(callback.first_call_at),
            "due": _iso(callback.due_at),
            "done": _iso(callback.done_at),
            "requested": callback.requested,
            "attempts": [
                {
                    "operator": a.operator,
                    "started": _iso(a.started_at),
                    "ended": _iso(a.ended_at),
                    "result": a.result,
                }
                for a in attempts
            ],
        }
    return {
        **call_json(row),
        "rule": row.rule or None,
        "why": row.why or None,
        "ticket": ticket_json(ticket) if ticket else None,
        "callback_entry": entry,
        "timeline": [step_json(s) for s in timeline(facts)],
    }


def call_facts(
    row: CallRow,
    ticket: TicketView | None,
    callback: CallbackRow | None,
    attempts: Sequence[CallbackAttemptRow],
) -> CallFacts:
    """The call log's rows as the timeline's facts (the one mapping of them)."""
    return CallFacts(
        arrived=row.arrived_at,
        direction=row.direction,
        decided=row.decided_at,
        route=row.route,
        reason=row.reason,
        rule=row.rule,
        why=row.why,
        queued=row.queued_at,
        answered=row.answered_at,
        ended=row.ended_at,
        operator=row.operator,
        outcome=row.outcome,
        rings=tuple(RingFact(r.endpoint, r.started_at, r.seconds, r.result) for r in row.rings),
        queue_left=row.queue_left_at,
        queue_abandoned=row.queue_abandoned,
        queue_status=row.queue_status,
        ticket=(
            TicketFact(ticket.id, ticket.created_at, ticket.status, ticket.kind.value)
            if ticket
            else None
        ),
        callback=(
            CallbackFact(
                callback.id,
                callback.created_at,
                callback.due_at,
                tuple(
                    AttemptFact(a.operator, a.started_at, a.ended_at, a.result) for a in attempts
                ),
            )
            if callback
            else None
        ),
    )


def step_json(step: Step) -> dict[str, Any]:
    values: dict[str, Any] = {"at": _iso(step.at), "kind": step.kind.value}
    for name in ("operator", "seconds", "result", "route", "reason", "rule", "why", "ref"):
        value = getattr(step, name)
        if value is not None:
            values[name] = value
    if step.due is not None:
        values["due"] = _iso(step.due)
    return values


def csv_lines(sessions: sessionmaker[Session], f: CallFilter) -> Iterator[str]:
    """The CSV of every call of the filter, newest first, one line at a time, in a session
    of its own (the export outlives the request's): memory holds one batch of calls."""
    names = [column for _, column in CSV_COLUMNS]
    with sessions() as session:
        calls = call_queries.stream(session, f, names)  # each row's values in `names` order
        rows = ([_cell(value) for value in row] for row in calls)
        yield from csv_export.lines(CSV_HEADER, rows)


def _cell(value: object) -> object:
    kind = type(value)
    if kind is datetime:
        return warsaw(value).isoformat()  # type: ignore[arg-type]
    if kind is float:
        return round(value, 1)  # type: ignore[call-overload]
    return value


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else warsaw(moment).isoformat()
