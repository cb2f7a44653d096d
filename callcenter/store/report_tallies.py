"""The service-level tallies in the database: built from the log for the days marked
changed, merged for a range.

Theory of operation: every flush that adds or changes a call (its rings included) or a
callback marks the Warsaw day it counts on, in the same transaction (store/report_marks.py,
on every session factory of `db.sessions`). A report first builds (`refresh`) the days of
its range that are marked or were never built: it reads those days' calls and callbacks from
the log, folds them with the core (domain/report_tallies.py) and replaces the days' tallies,
then removes the marks it saw (a mark written meanwhile stays: the day is built again next
time). Building a day drops its month's tallies; a whole past month in a report's range gets
them again, merged from its days' tallies into one JSON document (`report_months`; values
as JSON numbers, which read back as the same doubles), so a month reads one row instead of
one per contract and day. Then `merged` merges the range's
tallies: the months' where whole, the days' elsewhere (summed and joined by SQL). Values are
stored as hex of little-endian doubles, so joining the texts joins the values, exactly.
`rebuild` builds every day and month of the log again (after a bulk load).
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import astuple
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain import report_tallies as core
from callcenter.domain.calendar import WARSAW
from callcenter.domain.reports import ContractFigures, HourFigures, OperatorFigures, day_of
from callcenter.store import call_queries, db
from callcenter.store.models import (
    CallbackRow,
    CallRow,
    ReportDayRow,
    ReportMarkRow,
    ReportMonthRow,
    ReportTallyRow,
)

BUILD_DAYS = 31  # days read from the log at a time when building
MONTH_KINDS = tuple(k for k in core.KINDS if k not in core.PER_DAY_KINDS)
T = ReportTallyRow


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=WARSAW)


def _runs(days: Iterable[date], longest: int = BUILD_DAYS) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs, each at most `longest` days."""
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while (
            j + 1 < len(ordered)
            and ordered[j + 1] == ordered[j] + timedelta(days=1)
            and j + 1 - i < longest
        ):
            j += 1
        yield ordered[i], ordered[j]
        i = j + 1


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def whole_months(first: date, last: date, today: date) -> list[date]:
    """The months (their first days) wholly inside [first, last] and over before today."""
    months = []
    month = first if first.day == 1 else _month_end(first) + timedelta(days=1)
    while _month_end(month) <= last and _month_end(month) < today:
        months.append(month)
        month = _month_end(month) + timedelta(days=1)
    return months


# --- values --------------------------------------------------------------------------------


def encode(values: Sequence[float]) -> str | None:
    """The values as hex of little-endian doubles: texts joined are the values joined."""
    if not values:
        return None
    packed = array("d", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes().hex()


def decode(text: str | None) -> list[float]:
    if not text:
        return []
    packed = array("d")
    packed.frombytes(bytes.fromhex(text))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tolist()


def _row(day: date, kind: str, key: str, t: core.Tally) -> dict[str, Any]:
    values = {name: getattr(t, name) for name in core.COUNTS}
    return {
        "day": day, "kind": kind, "key": key, **values,
        "waits": encode(t.waits), "talks": encode(t.talks), "rings": encode(t.rings),
    }  # fmt: skip


# --- building ------------------------------------------------------------------------------


def build(session: Session, days: Iterable[date], now: datetime) -> int:
    """Replace the tallies of `days` by tallies folded from the log; the days count as
    built, their months' tallies are dropped. Returns the tally rows written."""
    written = 0
    for first, last in _runs(days):
        calls, callbacks = call_queries.report_facts(
            session, _start(first), _start(last + timedelta(days=1))
        )
        found = core.tallies(calls, callbacks)
        rows = [_row(d, kind, key, t) for (d, kind, key), t in found.items()]
        session.execute(delete(T).where(T.day >= first, T.day <= last))
        session.execute(
            delete(ReportDayRow).where(ReportDayRow.day >= first, ReportDayRow.day <= last)
        )
        months = {first.replace(day=1), last.replace(day=1)}
        session.execute(delete(ReportMonthRow).where(ReportMonthRow.month.in_(sorted(months))))
        if rows:
            session.execute(insert(T), rows)
        session.execute(
            insert(ReportDayRow),
            [
                {"day": first + timedelta(days=i), "built_at": now}
                for i in range((last - first).days + 1)
            ],
        )
        written += len(rows)
    return written


def _join(session: Session) -> Any:
    """The SQL aggregate that joins texts: string_agg on PostgreSQL, group_concat else."""
    return func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat


Packed = list[Any]  # a tally being merged: [counts..., waits, talks, rings] (float lists)


def _pack(row: Sequence[Any]) -> Packed:
    """A tally row (its counts, then its values as stored) as a Packed tally."""
    n = len(core.COUNTS)
    return [*(int(v or 0) for v in row[:n]), *(decode(v) for v in row[n:])]


def _add(into: dict[tuple[str, str], Packed], kind: str, key: str, packed: Packed) -> None:
    """Merge a packed tally into `into`: counts added, values joined."""
    have = into.get((kind, key))
    if have is None:
        into[(kind, key)] = packed
        return
    for i in range(len(core.COUNTS)):
        have[i] += packed[i]
    for i in range(len(core.COUNTS), len(packed)):
        have[i] = have[i] + packed[i]


CONTRACT_KINDS = (core.CONTRACT, core.CONTRACT_REJECTED)
OTHER_KINDS = tuple(k for k in core.KINDS if k not in CONTRACT_KINDS)


def _document(found: dict[tuple[str, str], Packed], kinds: Iterable[str]) -> str:
    document: dict[str, dict[str, Packed]] = {}
    wanted = set(kinds)
    for (kind, key), packed in found.items():
        if kind in wanted:
            document.setdefault(kind, {})[key] = packed
    return json.dumps(document, separators=(",", ":"))


def build_month(session: Session, month: date, now: datetime) -> None:
    """The month's tallies (its days all built): its days' merged, and the contracts'
    figures computed from them by the core."""
    found: dict[tuple[str, str], Packed] = {}
    for row in session.execute(
        select(T.kind, T.key, *(getattr(T, n) for n in (*core.COUNTS, *core.VALUES))).where(
            T.day >= month, T.day <= _month_end(month), T.kind.in_(MONTH_KINDS)
        )
    ):
        _add(found, row[0], row[1], _pack(row[2:]))
    figures = core.range_figures({(None, kind, key): _tally(p) for (kind, key), p in found.items()})
    per_day: dict[tuple[date | None, str, str], core.Tally] = {}
    for row in session.execute(
        select(T.day, T.kind, T.key, *(getattr(T, n) for n in (*core.COUNTS, *core.VALUES))).where(
            T.day >= month, T.day <= _month_end(month), T.kind.in_(core.PER_DAY_KINDS)
        )
    ):
        per_day[(row[0], row[1], row[2])] = _tally(_pack(row[3:]))
    days = core.days_figures(per_day)
    session.execute(delete(ReportMonthRow).where(ReportMonthRow.month == month))
    session.execute(
        insert(ReportMonthRow).values(
            month=month,
            built_at=now,
            tallies=_document(found, (k for k in MONTH_KINDS if k not in CONTRACT_KINDS)),
            contract_tallies=_document(found, CONTRACT_KINDS),
            figures=json.dumps(_figures_document(figures, days), separators=(",", ":")),
        )
    )


def _figures_document(f: core.RangeFigures, days: core.DaysFigures) -> dict[str, Any]:
    return {
        "contracts": [[c.contract, *core.figures_fields(c.figures)] for c in f.contracts],
        "operators": [list(astuple(o)) for o in f.operators],
        "hours": [list(astuple(h)) for h in f.hours],
        "days": [[d.isoformat(), *core.figures_fields(x)] for d, x in sorted(days.days.items())],
        "total": core.figures_fields(days.total),
        "quiet": [d.isoformat() for d in days.quiet],
    }


def month_figures(
    session: Session, month: date
) -> tuple[core.RangeFigures, core.DaysFigures] | None:
    """The figures of a whole month computed when its tallies were merged: its contracts',
    operators' and hours', and its days'; None if they were not (yet)."""
    stored = session.scalar(select(ReportMonthRow.figures).where(ReportMonthRow.month == month))
    if stored is None:
        return None
    document = json.loads(stored)
    rest = core.RangeFigures(
        contracts=[
            ContractFigures(number, core.figures_from_fields(fields))
            for number, *fields in document["contracts"]
        ],
        operators=[OperatorFigures(*o) for o in document["operators"]],
        hours=[HourFigures(*h) for h in document["hours"]],
    )
    days = core.DaysFigures(
        days={date.fromisoformat(d): core.figures_from_fields(f) for d, *f in document["days"]},
        total=core.figures_from_fields(document["total"]),
        quiet=tuple(date.fromisoformat(d) for d in document["quiet"]),
    )
    return rest, days


def _to_build(session: Session, first: date, last: date, today: date) -> tuple[set[date], int]:
    """The days of [first, last] marked or never built (up to today), and the newest mark."""
    marks = session.execute(
        select(ReportMarkRow.day, func.max(ReportMarkRow.id))
        .where(ReportMarkRow.day >= first, ReportMarkRow.day <= last)
        .group_by(ReportMarkRow.day)
    ).all()
    days = {d for d, _ in marks}
    newest = max((m for _, m in marks), default=0)
    built = set(
        session.scalars(
            select(ReportDayRow.day).where(ReportDayRow.day >= first, ReportDayRow.day <= last)
        )
    )
    day = first
    while day <= min(last, today):
        if day not in built:
            days.add(day)
        day += timedelta(days=1)
    return days, newest


def refresh(session: Session, first: date, last: date, now: datetime) -> int:
    """Build the days of [first, last] that are marked or were never built, then the whole
    past months of the range that have no month tallies (the caller's transaction; two
    reports building the same day at once: one fails on the day's key and leaves it to the
    other). Returns the days built."""
    days, newest = _to_build(session, first, last, day_of(now))
    if days:
        build(session, days, now)
        session.execute(
            delete(ReportMarkRow).where(
                ReportMarkRow.day.in_(sorted(days)), ReportMarkRow.id <= newest
            )
        )
    months = whole_months(first, last, day_of(now))
    if months:
        built = set(
            session.scalars(select(ReportMonthRow.month).where(ReportMonthRow.month.in_(months)))
        )
        for month in months:
            if month not in built:
                build_month(session, month, now)
    return len(days)


def rebuild(sessions: sessionmaker[Session], now: datetime) -> int:
    """Build every day from the first call of the log to today again, and every whole past
    month (after a bulk load; `callcenter reports rebuild`), a month per transaction.
    Returns the days built."""
    with db.transaction(sessions) as session:
        first_call = session.scalar(select(func.min(CallRow.arrived_at)))
        first_callback = session.scalar(select(func.min(CallbackRow.first_call_at)))
        session.execute(delete(T))
        session.execute(delete(ReportDayRow))
        session.execute(delete(ReportMonthRow))
        newest = session.scalar(select(func.max(ReportMarkRow.id))) or 0
        session.execute(delete(ReportMarkRow).where(ReportMarkRow.id <= newest))
    starts = [day_of(m) for m in (first_call, first_callback) if m is not None]
    if not starts:
        return 0
    day, today = min(starts).replace(day=1), day_of(now)
    count = 0
    while day <= today:
        last = min(_month_end(day), today)
        with db.transaction(sessions) as session:
            build(session, (day + timedelta(days=i) for i in range((last - day).days + 1)), now)
            if last < today:
                build_month(session, day, now)
        count += (last - day).days + 1
        day = last + timedelta(days=1)
    return count


# --- reading -------------------------------------------------------------------------------


def _tally(packed: Packed) -> core.Tally:
    c = packed
    n = len(core.COUNTS)
    return core.Tally(
        calls=c[0], offered=c[1], answered=c[2], abandoned=c[3], unanswered=c[4],
        rejected=c[5], failed=c[6], queued=c[7], answered_within_20=c[8],
        answered_within_60=c[9], callbacks_made=c[10], callbacks_in_time=c[11], rung=c[12],
        missed_rings=c[13], waits=tuple(c[n]), talks=tuple(c[n + 1]), rings=tuple(c[n + 2]),
    )  # fmt: skip


def top_contracts(session: Session, first: date, last: date, limit: int) -> tuple[list[str], int]:
    """The `limit` contracts with the most calls offered in [first, last], in the core's
    order (offered, most first, then the number as code points: PostgreSQL compares them
    in the "C" collation, whatever the database's), and how many contracts had calls
    (`core.range_figures` lists those). Read from the index of migration 0015."""
    offered = func.sum(T.offered)
    postgres = session.get_bind().dialect.name == "postgresql"
    number = T.key.collate("C") if postgres else T.key
    query = (
        select(T.key, func.count().over())
        .where(T.kind == core.CONTRACT, T.day >= first, T.day <= last)
        .group_by(T.key)
        .having(func.sum(T.calls) > 0)
        .order_by(offered.desc(), number)
        .limit(limit)
    )
    rows = session.execute(query).all()
    return [key for key, _ in rows], (int(rows[0][1]) if rows else 0)


def merged(
    session: Session,
    first: date,
    last: date,
    today: date,
    month_kinds: bool = True,
    contracts: Collection[str] | None = None,
) -> dict[tuple[date | None, str, str], core.Tally]:
    """The tallies of [first, last] merged (as `core.merge_range` merges them): the month
    documents of its whole past months, the day tallies of the rest (summed and joined by
    one SQL query). Not `month_kinds`: only the kinds kept per day (the rest is known).
    `contracts`: of the contracts' kinds, only these contracts' tallies (summed from the
    days' tallies: a few contracts' rows cost less than a month's whole document)."""
    months: dict[date, tuple[str, str]] = {}
    whole = whole_months(first, last, today)
    if whole and month_kinds:
        query_months = select(
            ReportMonthRow.month,
            ReportMonthRow.tallies,
            ReportMonthRow.contract_tallies,
        ).where(ReportMonthRow.month.in_(whole))
        for month, tallies, contract_tallies in session.execute(query_months):
            months[month] = (tallies, contract_tallies)
    covered = {m + timedelta(days=i) for m in months for i in range(_month_end(m).day)}
    rest = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if first + timedelta(days=i) not in covered
    ]
    rest_days: list[ColumnElement[bool]] = [
        T.day.between(a, b) for a, b in _runs(rest, longest=10_000) if month_kinds
    ]
    others_where: list[ColumnElement[bool]] = [T.kind.in_(core.PER_DAY_KINDS)]
    if rest_days:
        in_rest = or_(*rest_days)
        if contracts is not None:  # the contracts' kinds: read below, for those contracts
            in_rest = and_(T.kind.in_(OTHER_KINDS), in_rest)
        others_where.append(in_rest)
    join = _join(session)
    per_day = case((T.kind.in_(core.PER_DAY_KINDS), T.day), else_=None).label("at")
    query = (
        select(
            per_day, T.kind, T.key,
            *(func.sum(getattr(T, name)) for name in core.COUNTS),
            *(join(getattr(T, name), "") for name in core.VALUES),
        )
        .where(T.day >= first, T.day <= last)
        .where(or_(*others_where))
        .group_by(per_day, T.kind, T.key)
    )  # fmt: skip
    days: dict[tuple[date | None, str, str], Packed] = {}
    others: dict[tuple[str, str], Packed] = {}
    for row in session.execute(query):
        at = row[0]
        if isinstance(at, str):  # SQLite gives the CASE's date back as text
            at = date.fromisoformat(at)
        if at is None:
            _add(others, row[1], row[2], _pack(row[3:]))
        else:
            days[(at, row[1], row[2])] = _pack(row[3:])
    if contracts is not None and month_kinds:
        _add_contracts(session, first, last, contracts, others)
    for tallies_document, contract_document in months.values():
        documents = [tallies_document]
        if contracts is None:
            documents.append(contract_document)
        for document in documents:
            for kind, tallies in json.loads(document).items():
                for key, packed in tallies.items():
                    _add(others, kind, key, packed)
    result = {at: _tally(packed) for at, packed in days.items()}
    result.update(((None, kind, key), _tally(packed)) for (kind, key), packed in others.items())
    return result


def _add_contracts(
    session: Session,
    first: date,
    last: date,
    contracts: Collection[str],
    into: dict[tuple[str, str], Packed],
) -> None:
    """The contracts' kinds' tallies of [first, last], for `contracts` only, merged into
    `into`: their contract tallies summed and joined; of the rejections by contract (a
    count each), every contract's summed from the index, those of `contracts` kept."""
    wanted = set(contracts)
    if not wanted:
        return
    join = _join(session)
    query = (
        select(
            T.key,
            *(func.sum(getattr(T, name)) for name in core.COUNTS),
            *(join(getattr(T, name), "") for name in core.VALUES),
        )
        .where(  # each contract's days sought in its index (migration 0015)
            T.kind == core.CONTRACT, T.key.in_(sorted(wanted)), T.day >= first, T.day <= last
        )
        .group_by(T.key)
    )  # fmt: skip
    for row in session.execute(query):
        _add(into, core.CONTRACT, row[0], _pack(row[1:]))
    rejected = (
        select(T.key, func.sum(T.rejected))
        .where(T.kind == core.CONTRACT_REJECTED, T.day >= first, T.day <= last)
        .group_by(T.key)
    )
    counts = [0] * len(core.COUNTS)
    at = core.COUNTS.index("rejected")
    for key, n in session.execute(rejected):
        if key.rsplit(core.SEP, 2)[0] in wanted:
            tally = counts.copy()
            tally[at] = int(n or 0)
            _add(into, core.CONTRACT_REJECTED, key, [*tally, [], [], []])
