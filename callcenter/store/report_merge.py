"""Reading the service-level tallies of a range: merged (the month documents of its whole
past months, the day tallies of the rest, summed and joined by SQL), and the contracts a
report lists picked first (`top_contracts`), so only theirs are read."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from callcenter.domain import report_tallies as core
from callcenter.store.models import ReportMonthRow
from callcenter.store.report_tallies import CONTRACT_KINDS, T, month_end, runs, whole_months
from callcenter.store.report_values import Packed, add, join_texts, pack, tally

OTHER_KINDS = tuple(k for k in core.KINDS if k not in CONTRACT_KINDS)


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
    months: dict[date, list[str]] = {}  # a whole month's documents to merge
    whole = whole_months(first, last, today)
    if whole and month_kinds:
        # the contracts' document only when every contract is wanted (else read below)
        wanted = [ReportMonthRow.tallies]
        if contracts is None:
            wanted.append(ReportMonthRow.contract_tallies)
        query_months = select(ReportMonthRow.month, *wanted).where(ReportMonthRow.month.in_(whole))
        for month, *documents in session.execute(query_months):
            months[month] = documents
    covered = {m + timedelta(days=i) for m in months for i in range(month_end(m).day)}
    rest = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if first + timedelta(days=i) not in covered
    ]
    rest_days: list[ColumnElement[bool]] = [
        T.day.between(a, b) for a, b in runs(rest, longest=10_000) if month_kinds
    ]
    others_where: list[ColumnElement[bool]] = [T.kind.in_(core.PER_DAY_KINDS)]
    if rest_days:
        in_rest = or_(*rest_days)
        if contracts is not None:  # the contracts' kinds: read below, for those contracts
            in_rest = and_(T.kind.in_(OTHER_KINDS), in_rest)
        others_where.append(in_rest)
    join = join_texts(session)
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
            add(others, row[1], row[2], pack(row[3:]))
        else:
            days[(at, row[1], row[2])] = pack(row[3:])
    if contracts is not None and month_kinds:
        _add_contracts(session, first, last, contracts, others)
    for documents in months.values():
        for document in documents:
            for kind, tallies in json.loads(document).items():
                for key, packed in tallies.items():
                    add(others, kind, key, packed)
    result = {at: tally(packed) for at, packed in days.items()}
    result.update(((None, kind, key), tally(packed)) for (kind, key), packed in others.items())
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
    join = join_texts(session)
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
        add(into, core.CONTRACT, row[0], pack(row[1:]))
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
            add(into, core.CONTRACT_REJECTED, key, [*tally, [], [], []])
