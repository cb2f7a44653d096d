"""The service-level tallies in the database: built from the log for the days marked
changed, merged by SQL for a range.

Theory of operation: every flush that adds or changes a call (its rings included) or a
callback marks the Warsaw day it counts on, in the same transaction (store/report_marks.py,
on every session factory of `db.sessions`). A report first builds (`refresh`) the days of
its range that are marked or were never built: it reads those days' calls and callbacks from
the log, folds them with the core (domain/report_tallies.py) and replaces the days' tallies,
then removes the marks it saw (a mark written meanwhile stays: the day is built again next
time). Then `merged` sums the counts and joins the values of the range's tallies in one SQL
query, grouped as the core's `merge_range` groups them. `rebuild` builds every day of the log
again (after a bulk load).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain import report_tallies as core
from callcenter.domain.calendar import WARSAW
from callcenter.domain.reports import day_of
from callcenter.store import call_queries, db
from callcenter.store.models import (
    CallbackRow,
    CallRow,
    ReportDayRow,
    ReportMarkRow,
    ReportTallyRow,
)

BUILD_DAYS = 31  # days read from the log at a time when building


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=WARSAW)


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs, each at most BUILD_DAYS long."""
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while (
            j + 1 < len(ordered)
            and ordered[j + 1] == ordered[j] + timedelta(days=1)
            and j + 1 - i < BUILD_DAYS
        ):
            j += 1
        yield ordered[i], ordered[j]
        i = j + 1


# --- building ------------------------------------------------------------------------------


def _encode(values: Sequence[float]) -> str | None:
    return ",".join(map(repr, values)) if values else None


def _decode(text: str | None) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v) if text else ()


def _row(day: date, kind: str, key: str, t: core.Tally) -> dict[str, Any]:
    values = {name: getattr(t, name) for name in core.COUNTS}
    return {
        "day": day, "kind": kind, "key": key, **values,
        "waits": _encode(t.waits), "talks": _encode(t.talks), "rings": _encode(t.rings),
    }  # fmt: skip


def build(session: Session, days: Iterable[date], now: datetime) -> int:
    """Replace the tallies of `days` by tallies folded from the log; the days count as
    built. Returns the tally rows written."""
    written = 0
    for first, last in _runs(days):
        calls, callbacks = call_queries.report_facts(
            session, _start(first), _start(last + timedelta(days=1))
        )
        rows = [
            _row(d, kind, key, t) for (d, kind, key), t in core.tallies(calls, callbacks).items()
        ]
        session.execute(
            delete(ReportTallyRow).where(ReportTallyRow.day >= first, ReportTallyRow.day <= last)
        )
        session.execute(
            delete(ReportDayRow).where(ReportDayRow.day >= first, ReportDayRow.day <= last)
        )
        if rows:
            session.execute(insert(ReportTallyRow), rows)
        session.execute(
            insert(ReportDayRow),
            [
                {"day": first + timedelta(days=i), "built_at": now}
                for i in range((last - first).days + 1)
            ],
        )
        written += len(rows)
    return written


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
    """Build the days of [first, last] that are marked or were never built (the caller's
    transaction; two reports building the same day at once: one fails on the day's key and
    leaves it to the other). Returns the days built."""
    days, newest = _to_build(session, first, last, day_of(now))
    if days:
        build(session, days, now)
        session.execute(
            delete(ReportMarkRow).where(
                ReportMarkRow.day.in_(sorted(days)), ReportMarkRow.id <= newest
            )
        )
    return len(days)


def rebuild(sessions: sessionmaker[Session], now: datetime) -> int:
    """Build every day from the first call of the log to today again (after a bulk load;
    `callcenter reports rebuild`), a month per transaction. Returns the days built."""
    with db.transaction(sessions) as session:
        first_call = session.scalar(select(func.min(CallRow.arrived_at)))
        first_callback = session.scalar(select(func.min(CallbackRow.first_call_at)))
        session.execute(delete(ReportTallyRow))
        session.execute(delete(ReportDayRow))
        newest = session.scalar(select(func.max(ReportMarkRow.id))) or 0
        session.execute(delete(ReportMarkRow).where(ReportMarkRow.id <= newest))
    starts = [day_of(m) for m in (first_call, first_callback) if m is not None]
    if not starts:
        return 0
    day, today = min(starts), day_of(now)
    count = 0
    while day <= today:
        last = min(day + timedelta(days=BUILD_DAYS - 1), today)
        with db.transaction(sessions) as session:
            build(session, (day + timedelta(days=i) for i in range((last - day).days + 1)), now)
        count += (last - day).days + 1
        day = last + timedelta(days=1)
    return count


# --- reading -------------------------------------------------------------------------------


def merged(
    session: Session, first: date, last: date
) -> dict[tuple[date | None, str, str], core.Tally]:
    """The tallies of [first, last] merged (as `core.merge_range` merges them): one query."""
    join = func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat
    t = ReportTallyRow
    per_day = case((t.kind.in_(core.PER_DAY_KINDS), t.day), else_=None).label("at")
    counts = [func.sum(getattr(t, name)) for name in core.COUNTS]
    values = [join(getattr(t, name), ",") for name in core.VALUES]
    query = (
        select(per_day, t.kind, t.key, *counts, *values)
        .where(t.day >= first, t.day <= last)
        .group_by(per_day, t.kind, t.key)
    )
    n = len(core.COUNTS)
    result: dict[tuple[date | None, str, str], core.Tally] = {}
    for row in session.execute(query):
        at = row[0]
        if isinstance(at, str):  # SQLite gives the CASE's date back as text
            at = date.fromisoformat(at)
        c = [int(v or 0) for v in row[3 : 3 + n]]
        result[(at, row[1], row[2])] = core.Tally(
            calls=c[0], offered=c[1], answered=c[2], abandoned=c[3], unanswered=c[4],
            rejected=c[5], failed=c[6], queued=c[7], answered_within_20=c[8],
            answered_within_60=c[9], callbacks_made=c[10], callbacks_in_time=c[11], rung=c[12],
            missed_rings=c[13], waits=_decode(row[3 + n]), talks=_decode(row[4 + n]),
            rings=_decode(row[5 + n]),
        )  # fmt: skip
    return result
