"""Reading the call log for people: filtered, newest first, by keyset pages; streamed whole.

A page never scans what came before it: the next page starts after the last call shown,
`(arrived_at, id) < (cursor)`, on the index `ix_calls_arrived_id` (and the filters' own
indexes, migrations 0008 and 0011). An export walks the same keyset in batches of Core
rows, so its memory stays constant whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, or_, select
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
    direction: str | None = None  # inbound | callback


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
        (CallRow.direction, f.direction),
    ):
        if value is not None:
            conditions.append(column == value)
    return query.where(*conditions) if conditions else query


def _after(query: Select[tuple[CallRow]], cursor: Cursor | None) -> Select[tuple[CallRow]]:
    if cursor is None:
        return query
    # `arrived_at <= x` first: a plain range both databases seek on the index with (an OR
    # alone makes SQLite walk the index from the newest call on every page).
    return query.where(
        CallRow.arrived_at <= cursor.arrived_at,
        or_(CallRow.arrived_at < cursor.arrived_at, CallRow.id < cursor.id),
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


def stream(
    session: Session, f: CallFilter, columns: Sequence[str] = (), batch: int = 2000
) -> Iterator[Row[Any]]:
    """Every call of the filter, newest first, as Core rows of the `calls` table's
    `columns` (all: none named; with `arrived_at` and `id` always), read `batch` at a time
    by keyset: no ORM objects, memory holds one batch."""
    table = CallRow.__table__
    names = list(dict.fromkeys([*columns, "arrived_at", "id"])) if columns else list(table.c.keys())
    shape = select(*(table.c[n] for n in names))
    connection = session.connection()
    after: Cursor | None = None
    while True:
        query = _after(_filtered(shape, f), after)
        query = query.order_by(CallRow.arrived_at.desc(), CallRow.id.desc()).limit(batch)
        rows = connection.execute(query).all()
        yield from rows
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
