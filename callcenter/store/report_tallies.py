"""The service-level tallies in the database: built from the log for the days marked
changed, and whole past months' merged (their figures computed) for the reports.

Theory of operation: every flush that adds or changes a call (its rings included) or a
callback marks the Warsaw day it counts on, in the same transaction (store/report_marks.py,
on every session factory of `db.sessions`). A report first builds (`refresh`) the days of
its range that are marked or were never built: it reads those days' calls and callbacks from
the log, folds them with the core (domain/report_tallies.py) and replaces the days' tallies,
then removes the marks it saw (a mark written meanwhile stays: the day is built again next
time). Building a day drops its month's tallies; a whole past month in a report's range gets
them again, merged from its days' tallies into one JSON document (`report_months`; values
as JSON numbers, which read back as the same doubles), so a month reads one row instead of
one per contract and day. Then store/report_merge.py merges the range's tallies: the
months' where whole, the days' elsewhere (summed and joined by SQL; values as
store/report_values.py stores them). `rebuild` builds every day and month of the log again
(after a bulk load).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import astuple
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    func,
    insert,
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
from callcenter.store.report_values import Packed, add, pack, tally, tally_row

BUILD_DAYS = 31  # days read from the log at a time when building
MONTH_KINDS = tuple(k for k in core.KINDS if k not in core.PER_DAY_KINDS)
T = ReportTallyRow


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=WARSAW)


def runs(days: Iterable[date], longest: int = BUILD_DAYS) -> Iterator[tuple[date, date]]:
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


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def whole_months(first: date, last: date, today: date) -> list[date]:
    """The months (their first days) wholly inside [first, last] and over before today."""
    months = []
    month = first if first.day == 1 else month_end(first) + timedelta(days=1)
    while month_end(month) <= last and month_end(month) < today:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


# --- building ------------------------------------------------------------------------------


def build(session: Session, days: Iterable[date], now: datetime) -> int:
    """Replace the tallies of `days` by tallies folded from the log; the days count as
    built, their months' tallies are dropped. Returns the tally rows written."""
    written = 0
    for first, last in runs(days):
        calls, callbacks = call_queries.report_facts(
            session, _start(first), _start(last + timedelta(days=1))
        )
        found = core.tallies(calls, callbacks)
        rows = [tally_row(d, kind, key, t) for (d, kind, key), t in found.items()]
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


CONTRACT_KINDS = (core.CONTRACT, core.CONTRACT_REJECTED)


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
            T.day >= month, T.day <= month_end(month), T.kind.in_(MONTH_KINDS)
        )
    ):
        add(found, row[0], row[1], pack(row[2:]))
    figures = core.range_figures({(None, kind, key): tally(p) for (kind, key), p in found.items()})
    per_day: dict[tuple[date | None, str, str], core.Tally] = {}
    for row in session.execute(
        select(T.day, T.kind, T.key, *(getattr(T, n) for n in (*core.COUNTS, *core.VALUES))).where(
            T.day >= month, T.day <= month_end(month), T.kind.in_(core.PER_DAY_KINDS)
        )
    ):
        per_day[(row[0], row[1], row[2])] = tally(pack(row[3:]))
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
        last = min(month_end(day), today)
        with db.transaction(sessions) as session:
            build(session, (day + timedelta(days=i) for i in range((last - day).days + 1)), now)
            if last < today:
                build_month(session, day, now)
        count += (last - day).days + 1
        day = last + timedelta(days=1)
    return count
