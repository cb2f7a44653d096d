"""Clause 6: closures and late answers extend the paid period, explained (domain/contracts.py)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from builders import TUESDAY, at, closures, contract, request
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.calendar import WARSAW, Calendar, Closure
from callcenter.domain.contracts import (
    ExtensionCause,
    delay_days,
    effective_period,
    phone_capable,
)
from callcenter.domain.terms import Plan, Reason, TicketKind

CAL = Calendar()
HALF_YEAR = contract(paid_from=date(2026, 1, 1), paid_until=date(2026, 6, 30))
# A request at Tuesday 10:00 is due Wednesday 16:00 (clause 3).
RECEIVED = at(TUESDAY, 10)
DUE = at(TUESDAY + timedelta(days=1), 16)


def test_clause6_no_closure_no_delay_means_the_paid_period() -> None:
    period = effective_period(HALF_YEAR, CAL)
    assert period.paid_from == date(2026, 1, 1)
    assert period.paid_until == date(2026, 6, 30)
    assert period.effective_until == date(2026, 6, 30)
    assert period.extensions == ()


def test_clause6_closure_within_the_period_adds_its_calendar_days_weekend_included() -> None:
    # Friday to Monday: four days, two of them a weekend.
    cal = closures((date(2026, 3, 6), date(2026, 3, 9)))
    period = effective_period(HALF_YEAR, cal)
    assert period.effective_until == date(2026, 7, 4)
    (ext,) = period.extensions
    assert ext.cause is ExtensionCause.CLOSURE
    assert ext.days == 4
    assert ext.closure_id == 1
    assert "2026-03-06..2026-03-09" in ext.why


def test_clause6_closure_partly_before_the_period_counts_only_the_days_inside() -> None:
    cal = closures((date(2025, 12, 29), date(2026, 1, 2)))
    period = effective_period(HALF_YEAR, cal)
    assert period.effective_until == date(2026, 7, 2)
    assert [e.days for e in period.extensions] == [2]


def test_clause6_closure_before_or_after_the_period_adds_nothing() -> None:
    cal = closures((date(2025, 12, 1), date(2025, 12, 5)), (date(2026, 7, 10), date(2026, 7, 20)))
    period = effective_period(HALF_YEAR, cal)
    assert period.effective_until == date(2026, 6, 30)
    assert period.extensions == ()


def test_clause6_extension_landing_on_a_later_closure_extends_again() -> None:
    # Two days of closure in March push the end to 2 July, into a closure from 1 to 5 July,
    # whose days then count too: 30 June + 2 + 5.
    cal = closures((date(2026, 3, 2), date(2026, 3, 3)), (date(2026, 7, 1), date(2026, 7, 5)))
    period = effective_period(HALF_YEAR, cal)
    assert period.effective_until == date(2026, 7, 7)
    assert [(e.closure_id, e.days) for e in period.extensions] == [(1, 2), (2, 5)]


def test_clause6_overlapping_closures_are_not_counted_twice() -> None:
    cal = closures((date(2026, 3, 2), date(2026, 3, 6)), (date(2026, 3, 5), date(2026, 3, 10)))
    period = effective_period(HALF_YEAR, cal)
    # 2..10 March: nine distinct days.
    assert period.effective_until == date(2026, 6, 30) + timedelta(days=9)
    assert sum(e.days for e in period.extensions) == 9
    assert {e.closure_id for e in period.extensions} == {1, 2}


def test_clause6_an_answer_one_minute_late_is_one_started_day() -> None:
    late = request(TicketKind.ANSWER, RECEIVED, DUE + timedelta(minutes=1), id=7)
    assert delay_days(late, CAL) == 1
    period = effective_period(HALF_YEAR, CAL, [late])
    assert period.effective_until == date(2026, 7, 1)
    (ext,) = period.extensions
    assert ext.cause is ExtensionCause.DELAY
    assert ext.days == 1
    assert ext.ticket_id == 7
    assert "ticket #7" in ext.why


def test_clause6_an_answer_a_day_and_a_minute_late_is_two_started_days() -> None:
    late = request(TicketKind.ANSWER, RECEIVED, DUE + timedelta(days=1, minutes=1))
    assert delay_days(late, CAL) == 2
    assert effective_period(HALF_YEAR, CAL, [late]).effective_until == date(2026, 7, 2)


def test_clause6_an_answer_exactly_24h_late_is_one_day() -> None:
    late = request(TicketKind.ANSWER, RECEIVED, DUE + timedelta(days=1))
    assert delay_days(late, CAL) == 1


@pytest.mark.parametrize("answered", [RECEIVED + timedelta(hours=1), DUE])
def test_clause6_an_answer_on_time_adds_nothing(answered: datetime) -> None:
    on_time = request(TicketKind.ANSWER, RECEIVED, answered)
    assert delay_days(on_time, CAL) == 0
    period = effective_period(HALF_YEAR, CAL, [on_time])
    assert period.effective_until == HALF_YEAR.paid_until
    assert period.extensions == ()


def test_clause6_an_unanswered_request_adds_nothing() -> None:
    open_request = request(TicketKind.ANSWER, RECEIVED)
    assert delay_days(open_request, CAL) == 0
    assert effective_period(HALF_YEAR, CAL, [open_request]).extensions == ()


def test_clause6_delay_is_measured_from_the_due_time_which_skips_the_weekend() -> None:
    # Friday 17:00 counts Monday, due Tuesday 16:00: answered Tuesday 15:00 is on time.
    friday_evening = at(date(2026, 3, 13), 17)
    answered = at(date(2026, 3, 17), 15)
    assert delay_days(request(TicketKind.ANSWER, friday_evening, answered), CAL) == 0


def test_clause6_a_delay_that_pushes_the_end_into_a_closure_extends_again() -> None:
    late = request(TicketKind.ANSWER, RECEIVED, DUE + timedelta(days=2, minutes=1), id=3)
    cal = closures((date(2026, 7, 2), date(2026, 7, 3)))
    period = effective_period(HALF_YEAR, cal, [late])
    # 3 days of delay reach 3 July; the closure's 2 days then count: 30 June + 3 + 2.
    assert period.effective_until == date(2026, 7, 5)
    causes = {(e.cause, e.days, e.closure_id, e.ticket_id) for e in period.extensions}
    assert causes == {(ExtensionCause.DELAY, 3, None, 3), (ExtensionCause.CLOSURE, 2, 1, None)}


def test_clause6_several_late_answers_add_up() -> None:
    late = [
        request(TicketKind.ANSWER, RECEIVED, DUE + timedelta(hours=1), id=1),
        request(TicketKind.ACTION, RECEIVED, DUE + timedelta(days=2, hours=1), id=2),
    ]
    period = effective_period(HALF_YEAR, CAL, late)
    assert period.effective_until == date(2026, 7, 4)
    assert [e.ticket_id for e in period.extensions] == [1, 2]


@pytest.mark.parametrize(
    ("day", "standing"),
    [
        (date(2025, 12, 31), Reason.NOT_STARTED),
        (date(2026, 1, 1), None),
        (date(2026, 7, 4), None),  # the last effective day
        (date(2026, 7, 5), Reason.EXPIRED),
    ],
)
def test_clause3_requests_count_only_during_the_effective_paid_period(
    day: date, standing: Reason | None
) -> None:
    cal = closures((date(2026, 3, 6), date(2026, 3, 9)))
    assert effective_period(HALF_YEAR, cal).standing_on(day) == standing


def test_plans_table_only_phone_and_professional_cover_a_call() -> None:
    contracts = [
        contract("E", plan=Plan.EMAIL),
        contract("P", plan=Plan.PHONE),
        contract("X", plan=Plan.PROFESSIONAL),
    ]
    assert [c.number for c in phone_capable(contracts)] == ["P", "X"]


def test_clause7_units_per_day_default_and_override() -> None:
    assert contract().units_per_day == 2
    assert contract(daily_units=5).units_per_day == 5


# -- property: the effective end is paid_until plus every extension, and a fixed point -------

days_2026 = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 1))


@st.composite
def closure_sets(draw: st.DrawFn) -> Calendar:
    spans = draw(st.lists(st.tuples(days_2026, st.integers(min_value=0, max_value=12)), max_size=5))
    return Calendar(
        closures=tuple(
            Closure(first, first + timedelta(days=length), id=i)
            for i, (first, length) in enumerate(spans)
        )
    )


delays = st.lists(
    st.tuples(
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    cal=closure_sets(),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 6, 30)),
    length=st.integers(min_value=0, max_value=200),
    late=delays,
)
def test_property_clause6_effective_end_is_paid_until_plus_all_extensions(
    cal: Calendar, start: date, length: int, late: list[tuple[date, int]]
) -> None:
    paid = contract(paid_from=start, paid_until=start + timedelta(days=length))
    requests = []
    for i, (day, minutes) in enumerate(late):
        received = at(day, 10)
        answered = cal.due(received) + timedelta(minutes=minutes)
        requests.append(request(TicketKind.ANSWER, received, answered, id=i))
    period = effective_period(paid, cal, requests)

    assert period.effective_until >= paid.paid_until
    total = sum(e.days for e in period.extensions)
    assert period.effective_until == paid.paid_until + timedelta(days=total)
    # The fixed point: every closure day up to the effective end is counted exactly once.
    delay_total = sum(delay_days(r, cal) for r in requests)
    closure_days = {
        d for c in cal.closures for d in c.days() if paid.paid_from <= d <= period.effective_until
    }
    assert total == delay_total + len(closure_days)
    assert all(e.days > 0 for e in period.extensions)


@settings(max_examples=200, deadline=None)
@given(
    units=st.none() | st.integers(min_value=1, max_value=1000),
    phones=st.lists(st.from_regex(r"\+48[1-9][0-9]{8}", fullmatch=True), max_size=3),
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30), timezones=st.just(WARSAW)
    ),
)
def test_a_contract_pickles_to_an_equal_contract(
    units: int | None, phones: list[str], moment: datetime
) -> None:
    """The import's checking process sends contracts to the importer pickled (its own
    __reduce__, field by field): every field comes back, of the same types."""
    original = replace(contract(), daily_units=units, phones=tuple(phones), accepted_at=moment)
    copy = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == original
    assert type(copy.plan) is Plan and copy.accepted_at.tzinfo is WARSAW
