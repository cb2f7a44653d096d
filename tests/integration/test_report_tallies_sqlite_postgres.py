"""The service-level tallies in a real SQLite file and a real PostgreSQL: built from the
log, kept current by the marks every call's write leaves, rebuilt whole, and always giving
the figures the core computes from the calls themselves."""

from __future__ import annotations

import os
import random
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter import service_levels
from callcenter.domain import reports
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.report_tallies import ServiceLevels
from callcenter.store import call_queries, db, migrate, report_tallies
from callcenter.store import repositories as repo
from callcenter.store.models import (
    CallbackRow,
    CallRingRow,
    CallRow,
    ReportDayRow,
    ReportMarkRow,
    ReportMonthRow,
    ReportTallyRow,
)

FIRST, LAST = date(2026, 10, 1), date(2026, 11, 5)  # DST ends on 25 October in Warsaw
NOW = datetime(2026, 11, 5, 18, 0, tzinfo=WARSAW)
SPAN = service_levels.DateRange(FIRST, LAST)
NOVEMBER = datetime(2026, 11, 1, tzinfo=WARSAW)


def _fill(sessions: sessionmaker[Session], count: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime.combine(FIRST, datetime.min.time(), tzinfo=WARSAW).astimezone(UTC)
    with db.transaction(sessions) as session:
        for i in range(count):
            arrived = start + timedelta(minutes=rng.randrange(60 * 24 * 36))
            outcome = rng.choice(["answered", "abandoned", "unanswered", "rejected", None])
            queued = outcome in ("answered", "abandoned", "unanswered") and rng.random() < 0.9
            wait = round(rng.expovariate(1 / 20), 6) if queued else None
            callback = None
            contract = rng.choice([None, "K-1", "K-2", "Ł/3, (b)"])
            if outcome in ("abandoned", "unanswered") and contract and rng.random() < 0.7:
                due = arrived + timedelta(hours=rng.randrange(2, 30))
                callback = CallbackRow(
                    caller_e164=f"+4860100{i:04d}", contract=contract, first_call_at=arrived,
                    last_call_at=arrived, due_at=due, created_at=arrived,
                    done_at=rng.choice([None, due - timedelta(hours=1), due + timedelta(hours=1)]),
                )  # fmt: skip
                session.add(callback)
                session.flush()
            op = rng.choice(["op1", "op2", "op3"])
            row = CallRow(
                linkedid=f"{seed}.{i}", arrived_at=arrived, contract=contract,
                route="queue" if queued else rng.choice(["closed", "no_contract", "queue"]),
                reason=rng.choice(["covered", "weekend", "outside_hours"]),
                outcome=outcome, queued_at=arrived + timedelta(seconds=3) if queued else None,
                wait_s=wait, talk_s=rng.uniform(5, 900) if outcome == "answered" else None,
                operator=op if outcome == "answered" else None,
                direction="callback" if rng.random() < 0.05 else "inbound",
                callback_id=callback.id if callback else None,
            )  # fmt: skip
            if queued:
                row.rings = [
                    CallRingRow(
                        position=0, endpoint=op, started_at=arrived, seconds=wait,
                        result="answered" if outcome == "answered" else "no_answer",
                    )
                ]  # fmt: skip
            session.add(row)


def _from_calls(
    sessions: sessionmaker[Session], first: date = FIRST, last: date = LAST
) -> tuple[object, ...]:
    """The figures straight from the calls (no tallies): what the report must equal."""
    since = datetime.combine(first, datetime.min.time(), tzinfo=WARSAW)
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=WARSAW)
    with sessions() as session:
        calls, cbs = call_queries.report_facts(session, since, until)
    return (
        reports.by_day(calls, cbs, first, last, Calendar()),
        reports.by_operator(calls),
        reports.by_contract(calls, cbs),
        reports.by_hour(calls),
    )


def _figures(r: ServiceLevels) -> tuple[object, ...]:
    return (r.days, r.operators, r.contracts, r.hours)


def _count(sessions: sessionmaker[Session], table: type[object]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_tallies_give_the_calls_figures_and_follow_every_change(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        sessions = db.sessions(engine)
        _fill(sessions, 400, seed=1)
        assert _count(sessions, ReportMarkRow) > 0, "writing calls marks their days"

        first = service_levels.report(sessions, SPAN, NOW)
        expected = _from_calls(sessions)
        assert _figures(first) == expected
        assert _count(sessions, ReportMonthRow) == 1, "October is whole: its month tallies"
        # exactly October: its contracts' figures as computed when its tallies were merged
        october = service_levels.DateRange(FIRST, date(2026, 10, 31))
        assert _figures(service_levels.report(sessions, october, NOW)) == _from_calls(
            sessions, *astuple(october)
        )
        assert sum(d.figures.offered for d in first.days) > 300
        assert _count(sessions, ReportMarkRow) == 0, "building takes the marks it saw"
        assert _count(sessions, ReportDayRow) == (LAST - FIRST).days + 1
        tallies = _count(sessions, ReportTallyRow)

        # a call changes (it ends answered): its day is marked and built again
        with db.transaction(sessions) as session:
            call = session.scalars(  # an October call: its month's tallies are merged again
                select(CallRow)
                .where(CallRow.outcome == "abandoned", CallRow.arrived_at < NOVEMBER)
                .order_by(CallRow.id)
            ).first()
            assert call is not None
            call.outcome, call.operator, call.talk_s = "answered", "op9", 42.0
        with db.transaction(sessions) as session:  # and a callback is done
            cb = session.scalars(
                select(CallbackRow).where(CallbackRow.done_at.is_(None)).order_by(CallbackRow.id)
            ).first()
            assert cb is not None
            cb.done_at = cb.first_call_at
        _fill(sessions, 30, seed=2)  # and new calls come
        assert _count(sessions, ReportMarkRow) > 0
        # a report of the changed day alone builds it (and drops October's month tallies)
        service_levels.report(
            sessions,
            service_levels.DateRange(*[call.arrived_at.astimezone(WARSAW).date()] * 2),
            NOW,
        )
        second = service_levels.report(sessions, SPAN, NOW)
        assert _figures(second) == _from_calls(sessions) != expected
        assert "op9" in {o.operator for o in second.operators}

        # a rebuild from the log gives the same figures
        built = report_tallies.rebuild(sessions, NOW)
        assert built >= (LAST - FIRST).days + 1
        third = service_levels.report(sessions, SPAN, NOW)
        assert third == second
        assert _count(sessions, ReportTallyRow) >= tallies
    finally:
        engine.dispose()


def test_a_report_of_days_without_calls(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        sessions = db.sessions(engine)
        span = service_levels.DateRange(date(2026, 11, 9), date(2026, 11, 15))
        r = service_levels.report(sessions, span, NOW)
        # five working days (Mon 9 .. Fri 13, but 11 November is a holiday): zeros
        assert [d.day.day for d in r.days] == [9, 10, 12, 13]
        assert r.total.offered == 0 and r.total.service_level_20 is None
        assert r.contracts == [] and r.operators == []
    finally:
        engine.dispose()


def test_a_routing_decision_written_by_core_statements_marks_its_day(database_url: str) -> None:
    """The routing service logs decisions with Core statements (no flush): it marks the day
    itself, so a report built before the decision counts the call after it."""
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        sessions = db.sessions(engine)
        day = date(2026, 11, 4)
        span = service_levels.DateRange(day, day)
        assert service_levels.report(sessions, span, NOW).total.offered == 0
        when = datetime(2026, 11, 4, 20, 30, tzinfo=WARSAW)
        with db.transaction(sessions) as session:
            repo.record_decisions(session, [
                repo.CallDecision(
                    linkedid="r.1", caller_raw="601", caller_name="", caller_e164="+48601",
                    dialled="800", route="closed", reason="outside_hours", contract="K-1",
                    contracts=("K-1",), covered=True, arrived_at=when, decided_at=when,
                    decision_ms=1.0,
                )
            ])  # fmt: skip
        assert _count(sessions, ReportMarkRow) == 1
        after = service_levels.report(sessions, span, NOW)
        assert after.total.offered == 1 and [c.contract for c in after.contracts] == ["K-1"]
        assert after.hours[20].offered == 1
    finally:
        engine.dispose()


def test_a_report_listing_its_top_contracts_lists_the_first_of_all_of_them(
    database_url: str,
) -> None:
    """`contracts=N` computes only the listed contracts' figures (store.top_contracts picks
    them in SQL): they are the full report's first N, ties in offered calls ordered by the
    number as the core orders them (code points: "A" before "a" before "Ł", whatever the
    database's collation), and everything else the same."""
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        sessions = db.sessions(engine)
        _fill(sessions, 300, seed=3)
        with db.transaction(sessions) as session:  # ties: one offered call each
            for i, number in enumerate(["b-1", "a-1", "Ł-1", "A-1", "á-1", "B-1", "Z 1"]):
                session.add(CallRow(
                    linkedid=f"tie.{i}", contract=number, outcome="rejected", route="closed",
                    reason="weekend", arrived_at=datetime(2026, 10, 3, 9, i, tzinfo=WARSAW),
                ))  # fmt: skip
        spans = [
            SPAN,  # October whole (its month document) and November so far
            service_levels.DateRange(FIRST, date(2026, 10, 31)),  # exactly October
            service_levels.DateRange(date(2026, 10, 2), date(2026, 10, 9)),
            service_levels.DateRange(date(2026, 11, 1), LAST),  # this month so far
            service_levels.DateRange(date(2026, 12, 1), date(2026, 12, 3)),  # no calls
        ]
        for span in spans:
            full = service_levels.report(sessions, span, NOW)
            assert full.contracts_total == len(full.contracts)
            for limit in (1, 3, 5, 8, 1000):
                top = service_levels.report(sessions, span, NOW, contracts=limit)
                assert top.contracts == full.contracts[:limit], (span, limit)
                assert top.contracts_total == full.contracts_total, (span, limit)
                assert (top.days, top.total, top.operators, top.hours) == (
                    full.days, full.total, full.operators, full.hours,
                )  # fmt: skip
        ties = service_levels.report(
            sessions, service_levels.DateRange(*[date(2026, 10, 3)] * 2), NOW
        )
        ones = [c.contract for c in ties.contracts if c.figures.offered == 1]
        assert ones == sorted(ones) and {"a-1", "A-1", "Ł-1", "á-1"} <= set(ones)
    finally:
        engine.dispose()


def test_top_contracts_keep_the_cores_order_in_a_database_that_collates_by_language(
    postgres_server: str,
) -> None:
    """A PostgreSQL database made with a language's collation (ICU, Polish) orders "a-1"
    before "A-1" and "Ł-1" beside "L": the top contracts still come in the core's order."""
    import psycopg

    name = f"icu{os.getpid()}"
    with psycopg.connect(
        f"{postgres_server.replace('+psycopg', '')}/postgres", autocommit=True
    ) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'pl-PL'"
            " LOCALE 'C'"
        )
    engine = db.make_engine(f"{postgres_server}/{name}")
    try:
        migrate.upgrade(engine)
        sessions = db.sessions(engine)
        numbers = ["b-1", "a-1", "Ł-1", "A-1", "á-1", "B-1", "Z 1", "L-2", "m-1"]
        with db.transaction(sessions) as session:
            for i, number in enumerate(numbers):
                session.add(CallRow(
                    linkedid=f"tie.{i}", contract=number, outcome="rejected", route="closed",
                    reason="weekend", arrived_at=datetime(2026, 10, 3, 9, i, tzinfo=WARSAW),
                ))  # fmt: skip
            assert session.scalars(  # the database's own order is not the core's
                select(CallRow.contract).order_by(CallRow.contract)
            ).all() != sorted(numbers)
        span = service_levels.DateRange(*[date(2026, 10, 3)] * 2)
        for limit in range(1, len(numbers) + 1):
            top = service_levels.report(sessions, span, NOW, contracts=limit)
            assert [c.contract for c in top.contracts] == sorted(numbers)[:limit]
            assert top.contracts_total == len(numbers)
    finally:
        engine.dispose()
