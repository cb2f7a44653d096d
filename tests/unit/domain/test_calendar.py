"""Clause 3 and DESIGN "Time": working days, hours, next opening, due time (domain/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from builders import INDEPENDENCE_DAY, SATURDAY, TUESDAY, at, closures
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.calendar import WARSAW, Calendar, Closure
from callcenter.domain.terms import Reason

CAL = Calendar()
# Shared by the property tests so the holiday lookups stay cached between examples.
CAL_WITH_CLOSURES = closures(
    (date(2026, 8, 10), date(2026, 8, 21)),
    (date(2027, 12, 27), date(2027, 12, 31)),
    (date(2030, 5, 4), date(2030, 5, 10)),
)
FRIDAY = date(2026, 3, 13)
MONDAY = date(2026, 3, 16)


# -- working time: 08:00 <= t < 16:00 on a working day ---------------------------------------


@pytest.mark.parametrize(
    ("hms", "open_"),
    [((7, 59, 59), False), ((8, 0, 0), True), ((15, 59, 59), True), ((16, 0, 0), False)],
)
def test_clause3_working_hours_are_0800_inclusive_to_1600_exclusive(
    hms: tuple[int, int, int], open_: bool
) -> None:
    now = at(TUESDAY, *hms)
    assert CAL.is_working_time(now) is open_
    assert CAL.closed_reason(now) == (None if open_ else Reason.OUTSIDE_HOURS)


@pytest.mark.parametrize("day", [SATURDAY, SATURDAY + timedelta(days=1)])
def test_clause3_weekend_is_not_working_time(day: date) -> None:
    assert not CAL.is_working_day(day)
    assert CAL.closed_reason(at(day, 10)) is Reason.WEEKEND


@pytest.mark.parametrize(
    "day",
    [
        INDEPENDENCE_DAY,
        date(2026, 12, 24),  # Christmas Eve: a public holiday in Poland since 2025
        date(2026, 4, 6),  # Easter Monday
        date(2026, 6, 4),  # Corpus Christi
    ],
)
def test_clause3_polish_public_holidays_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert CAL.holiday(day)
    assert not CAL.is_working_day(day)
    assert CAL.closed_reason(at(day, 10)) is Reason.HOLIDAY


def test_clause3_an_ordinary_weekday_is_a_working_day() -> None:
    assert CAL.holiday(TUESDAY) is None
    assert CAL.is_working_day(TUESDAY)
    assert CAL.non_working_reason(TUESDAY) is None


def test_closure_days_are_closed_inclusive_of_both_ends() -> None:
    cal = closures((date(2026, 8, 10), date(2026, 8, 12)))
    assert cal.is_working_day(date(2026, 8, 7))
    for day in (date(2026, 8, 10), date(2026, 8, 11), date(2026, 8, 12)):
        assert cal.closed_reason(at(day, 10)) is Reason.CLOSURE
        assert cal.closure(day) == cal.closures[0]
    assert cal.is_working_day(date(2026, 8, 13))


def test_closure_contains_its_days_inclusive() -> None:
    closure = Closure(date(2026, 8, 10), date(2026, 8, 12))
    assert date(2026, 8, 10) in closure
    assert date(2026, 8, 12) in closure
    assert date(2026, 8, 13) not in closure
    assert date(2026, 8, 9) not in closure
    assert list(closure.days()) == [date(2026, 8, 10), date(2026, 8, 11), date(2026, 8, 12)]


def test_closure_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Closure(date(2026, 8, 12), date(2026, 8, 10))


def test_closed_reason_precedence_weekend_then_holiday_then_closure() -> None:
    # A closure spanning a weekend and a holiday: the more basic reason is named.
    cal = closures((date(2026, 11, 6), date(2026, 11, 13)))
    assert cal.closed_reason(at(date(2026, 11, 7), 10)) is Reason.WEEKEND  # Saturday
    assert cal.closed_reason(at(INDEPENDENCE_DAY, 10)) is Reason.HOLIDAY
    assert cal.closed_reason(at(date(2026, 11, 12), 10)) is Reason.CLOSURE
    # A holiday falling on a Saturday is a weekend first.
    assert CAL.holiday(date(2026, 8, 15))
    assert CAL.closed_reason(at(date(2026, 8, 15), 10)) is Reason.WEEKEND


def test_closed_reason_precedence_holiday_before_outside_hours() -> None:
    assert CAL.closed_reason(at(INDEPENDENCE_DAY, 20)) is Reason.HOLIDAY


# -- next opening ----------------------------------------------------------------------------


def test_next_open_during_working_time_is_now() -> None:
    now = at(TUESDAY, 11, 22, 33)
    assert CAL.next_open(now) == now


def test_next_open_before_0800_on_a_working_day_is_0800_that_day() -> None:
    assert CAL.next_open(at(TUESDAY, 7, 59, 59)) == at(TUESDAY, 8)


def test_next_open_from_friday_1600_is_monday_0800() -> None:
    opens = CAL.next_open(at(FRIDAY, 16))
    assert opens == at(MONDAY, 8)
    assert opens.utcoffset() == timedelta(hours=1)


def test_next_open_from_a_holiday_eve_skips_the_holiday() -> None:
    assert CAL.next_open(at(date(2026, 11, 10), 16)) == at(date(2026, 11, 12), 8)
    # 24th and 25th December are holidays, then the weekend.
    assert CAL.next_open(at(date(2026, 12, 23), 16, 30)) == at(date(2026, 12, 28), 8)


def test_next_open_skips_a_closure() -> None:
    cal = closures((date(2026, 8, 10), date(2026, 8, 14)))
    assert cal.next_open(at(date(2026, 8, 7), 17)) == at(date(2026, 8, 17), 8)
    assert cal.next_open(at(date(2026, 8, 12), 10)) == at(date(2026, 8, 17), 8)


def test_next_open_across_spring_dst_change_is_monday_0800_summer_time() -> None:
    # Sunday 2026-03-29: clocks go 02:00 -> 03:00.
    expected = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    for now in (
        at(date(2026, 3, 27), 16),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET, before the change
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST, after it
    ):
        opens = CAL.next_open(now)
        assert opens == expected
        assert opens.astimezone(WARSAW).time() == time(8, 0)
        assert opens.utcoffset() == timedelta(hours=2)


def test_next_open_across_autumn_dst_change_is_monday_0800_winter_time() -> None:
    # Sunday 2026-10-25: clocks go 03:00 -> 02:00; 02:30 happens twice.
    expected = datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    for now in (
        at(date(2026, 10, 23), 16),
        datetime(2026, 10, 25, 2, 30, tzinfo=WARSAW, fold=0),
        datetime(2026, 10, 25, 2, 30, tzinfo=WARSAW, fold=1),
    ):
        opens = CAL.next_open(now)
        assert opens == expected
        assert opens.utcoffset() == timedelta(hours=1)


def test_next_working_day_gives_up_on_a_calendar_closed_for_ten_years() -> None:
    cal = closures((date(2026, 1, 1), date(2037, 1, 1)))
    with pytest.raises(ValueError, match="no working day"):
        cal.next_working_day(date(2026, 1, 1))


# -- received and due ------------------------------------------------------------------------


def test_clause3_request_outside_hours_counts_next_working_day_due_the_day_after() -> None:
    received = at(FRIDAY, 17)
    assert CAL.received_on(received) == MONDAY
    assert CAL.due(received) == at(MONDAY + timedelta(days=1), 16)


def test_clause3_request_in_hours_is_due_at_1600_next_working_day() -> None:
    assert CAL.received_on(at(TUESDAY, 10)) == TUESDAY
    assert CAL.due(at(TUESDAY, 10)) == at(TUESDAY + timedelta(days=1), 16)


def test_clause3_request_before_opening_counts_that_day() -> None:
    assert CAL.received_on(at(TUESDAY, 6)) == TUESDAY
    assert CAL.due(at(TUESDAY, 6)) == at(TUESDAY + timedelta(days=1), 16)


def test_clause3_due_skips_a_holiday() -> None:
    # Tuesday before Independence Day (Wednesday): due Thursday.
    assert CAL.due(at(date(2026, 11, 10), 10)) == at(date(2026, 11, 12), 16)


def test_clause3_due_skips_a_closure() -> None:
    cal = closures((date(2026, 3, 11), date(2026, 3, 11)))
    assert cal.due(at(TUESDAY, 10)) == at(date(2026, 3, 12), 16)


@pytest.mark.parametrize(
    "method", ["closed_reason", "is_working_time", "next_open", "received_on", "due"]
)
def test_design_time_naive_datetimes_are_a_programming_error(method: str) -> None:
    with pytest.raises(ValueError, match="naive"):
        getattr(CAL, method)(datetime(2026, 3, 10, 10, 0))


# -- properties over 2020-2035 ---------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(instants)
def test_property_next_open_is_the_first_working_instant_at_or_after_t(t: datetime) -> None:
    for cal in (CAL, CAL_WITH_CLOSURES):
        opens = cal.next_open(t)
        assert opens >= t
        assert cal.is_working_time(opens)
        assert cal.next_open(opens) == opens
        # No working time strictly between t and its next opening (hour granularity).
        probe = t + timedelta(hours=1)
        while probe < opens:
            assert not cal.is_working_time(probe), probe
            probe += timedelta(hours=1)
        if opens > t:
            assert opens.astimezone(WARSAW).time() == time(8, 0)


@PROPERTY
@given(instants)
def test_property_due_is_after_t_at_1600_on_a_working_day(t: datetime) -> None:
    for cal in (CAL, CAL_WITH_CLOSURES):
        due = cal.due(t)
        local = due.astimezone(WARSAW)
        assert due > t
        assert local.time() == time(16, 0)
        assert cal.is_working_day(local.date())
        assert local.date() > cal.received_on(t)


@PROPERTY
@given(instants)
def test_property_same_instant_in_utc_or_warsaw_gives_the_same_answers(t: datetime) -> None:
    local = t.astimezone(WARSAW)
    for cal in (CAL, CAL_WITH_CLOSURES):
        assert cal.closed_reason(t) == cal.closed_reason(local)
        assert cal.next_open(t) == cal.next_open(local)
        assert cal.received_on(t) == cal.received_on(local)
        assert cal.due(t) == cal.due(local)
