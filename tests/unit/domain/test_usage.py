"""A contract's allowance day by day (domain/usage.py, clause 7), hand-worked."""

from __future__ import annotations

from datetime import date

from builders import TUESDAY, at, contract

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Request
from callcenter.domain.terms import TicketKind
from callcenter.domain.usage import usage_by_day

CAL = Calendar()
WEDNESDAY = date(2026, 3, 11)
FRIDAY = date(2026, 3, 13)
MONDAY = date(2026, 3, 16)


def _request(day: date, kind: TicketKind, number: str = "C-1", hour: int = 10) -> Request:
    return Request(contract=number, kind=kind, received_at=at(day, hour), answered_at=None)


def test_clause7_each_day_with_requests_newest_first_with_its_units_used() -> None:
    requests = [
        _request(TUESDAY, TicketKind.ANSWER),
        _request(TUESDAY, TicketKind.ANSWER, hour=11),
        _request(WEDNESDAY, TicketKind.ACTION),
        _request(WEDNESDAY, TicketKind.ANSWER, number="OTHER"),  # another contract's
    ]
    days = usage_by_day(contract("C-1"), CAL, requests)
    assert [(a.day, a.budget, a.used, a.left) for a in days] == [
        (WEDNESDAY, 2, 2, 0),
        (TUESDAY, 2, 2, 0),
    ]


def test_clause7_a_request_after_closing_counts_on_the_next_working_day() -> None:
    # Friday 17:00 is after hours: it counts on Monday (the calendar's received_on).
    days = usage_by_day(contract("C-1"), CAL, [_request(FRIDAY, TicketKind.ANSWER, hour=17)])
    assert [(a.day, a.used) for a in days] == [(MONDAY, 1)]


def test_clause7_a_consolidation_shows_the_day_given_and_the_days_given_up() -> None:
    grant = Consolidation("C-1", TUESDAY, 3)
    days = usage_by_day(contract("C-1"), CAL, [], [grant])
    assert [(a.day, a.budget, a.consolidated_onto) for a in days] == [
        (date(2026, 3, 12), 0, TUESDAY),
        (WEDNESDAY, 0, TUESDAY),
        (TUESDAY, 6, None),
    ]


def test_the_list_is_bounded() -> None:
    requests = [_request(date(2026, 3, d), TicketKind.ANSWER) for d in (9, 10, 11, 12, 13)]
    days = usage_by_day(contract("C-1"), CAL, requests, limit=2)
    assert [a.day for a in days] == [date(2026, 3, 13), date(2026, 3, 12)]
