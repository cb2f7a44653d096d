"""Reading the call log for people: filtered, newest first, by keyset pages; streamed whole.

A page never scans what came before it: the next page starts after the last call shown,
`(arrived_at, id) < (cursor)`, on the index `ix_calls_arrived_id` (and the filters' own
indexes, migration 0008). An export walks the same keyset in batches, so its memory stays
constant whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from callcenter.domain.reports import CallbackFacts, CallFacts, RingFacts
from callcenter.store.models import CallbackRow, CallRingRow, CallRow

PAGE_MAX = 500


@dataclass(frozen=True)
class CallFilter:
    """What a manager narrows the log to; None means any. `number` is E.164."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    outcome: str | None = None
    route: str | None = None
    reason: str | None = None
    contract: str | None = None
    operator: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last call shown (its arrival and id)."""

    arrived_at: datetime
    id: int

    def encode(self) -> str:
        micros = round(self.arrived_at.timestamp() * 1_000_000)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything but what `encode` writes."""
        micros, sep, ident = text.partition(".")
        if not sep or not micros.lstrip("-").isdigit() or not ident.isdigit():
            raise ValueError(f"not a page cursor: {text[:40]!r}")
        try:
            moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"not a page cursor: {text[:40]!r}") from None
        return cls(moment, int(ident))


def _filtered(query: Select[tuple[CallRow]], f: CallFilter) -> Select[tuple[CallRow]]:
    conditions = []
    if f.since is not None:
        conditions.append(CallRow.arrived_at >= f.since)
    if f.until is not None:
        conditions.append(CallRow.arrived_at < f.until)
    for column, value in (
        (CallRow.outcome, f.outcome),
        (CallRow.route, f.route),
        (CallRow.reason, f.reason),
        (CallRow.contract, f.contract),
        (CallRow.operator, f.operator),
        (CallRow.caller_e164, f.number),
    ):
        if value is not None:
            conditions.append(column == value)
    return query.where(*conditions) if conditions else query


def _after(query: Select[tuple[CallRow]], cursor: Cursor | None) -> Select[tuple[CallRow]]:
    if cursor is None:
        return query
    return query.where(
        or_(
            CallRow.arrived_at < cursor.arrived_at,
            and_(CallRow.arrived_at == cursor.arrived_at, CallRow.id < cursor.id),
        )
    )


def _rows(session: Session, f: CallFilter, after: Cursor | None, count: int) -> list[CallRow]:
    query = _after(_filtered(select(CallRow), f), after)
    query = query.order_by(CallRow.arrived_at.desc(), CallRow.id.desc()).limit(count)
    return list(session.scalars(query))


def page(
    session: Session, f: CallFilter, after: Cursor | None = None, limit: int = 50
) -> tuple[list[CallRow], Cursor | None]:
    """One page of calls, newest first, and the cursor of the next page (None: the last)."""
    limit = max(1, min(limit, PAGE_MAX))
    rows = _rows(session, f, after, limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], Cursor(last.arrived_at, last.id)


def stream(session: Session, f: CallFilter, batch: int = 1000) -> Iterator[CallRow]:
    """Every call of the filter, newest first, read `batch` at a time by keyset. The
    session is emptied after each batch, so memory holds one batch."""
    after: Cursor | None = None
    while True:
        rows = _rows(session, f, after, batch)
        yield from rows
        session.expunge_all()
        if len(rows) < batch:
            return
        after = Cursor(rows[-1].arrived_at, rows[-1].id)


def report_facts(
    session: Session, since: datetime, until: datetime
) -> tuple[list[CallFacts], list[CallbackFacts]]:
    """The calls that arrived in [since, until) and the callbacks first called in it, as the
    service-level figures read them (two queries for the calls and their rings, one for the
    callbacks; Core rows, no ORM objects)."""
    in_range = and_(CallRow.arrived_at >= since, CallRow.arrived_at < until)
    rings: dict[int, list[RingFacts]] = {}
    for r in session.execute(
        select(CallRingRow.call_id, CallRingRow.endpoint, CallRingRow.seconds, CallRingRow.result)
        .join(CallRow, CallRow.id == CallRingRow.call_id)
        .where(in_range)
        .order_by(CallRingRow.call_id, CallRingRow.position)
    ):
        rings.setdefault(r.call_id, []).append(RingFacts(r.endpoint, r.seconds, r.result))
    calls = [
        CallFacts(
            id=r.id,
            arrived=r.arrived_at,
            direction=r.direction,
            route=r.route,
            reason=r.reason,
            outcome=r.outcome,
            operator=r.operator,
            contract=r.contract,
            queued=r.queued_at,
            wait_seconds=r.wait_s,
            talk_seconds=r.talk_s,
            rings=tuple(rings.get(r.id, ())),
            callback=r.callback_id,
        )
        for r in session.execute(
            select(
                CallRow.id,
                CallRow.arrived_at,
                CallRow.route,
                CallRow.reason,
                CallRow.outcome,
                CallRow.operator,
                CallRow.contract,
                CallRow.queued_at,
                CallRow.wait_s,
                CallRow.talk_s,
                CallRow.callback_id,
                CallRow.direction,
            ).where(in_range)
        )
    ]
    callbacks = [
        CallbackFacts(r.id, r.contract, r.first_call_at, r.due_at, r.done_at)
        for r in session.execute(
            select(
                CallbackRow.id,
                CallbackRow.contract,
                CallbackRow.first_call_at,
                CallbackRow.due_at,
                CallbackRow.done_at,
            ).where(CallbackRow.first_call_at >= since, CallbackRow.first_call_at < until)
        )
    ]
    return calls, callbacks
