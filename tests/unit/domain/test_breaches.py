"""Due times kept or broken (clause 3), the extension a late answer caused (clause 6) and
why a request may be skipped (clauses 4, 8, 9): domain/breaches.py, contracts.py, tickets.py.
Every expected value is worked out by hand in the comment beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from builders import TUESDAY, at, closures, contract, request
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.breaches import SOONEST_DUE, is_breached, ticket_due
from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import CausedExtension, extensions_caused
from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import Finding, FindingCode, skip_reasons

CAL = Calendar()
WEDNESDAY = TUESDAY + timedelta(days=1)
FRIDAY = TUESDAY + timedelta(days=3)
MONDAY = TUESDAY + timedelta(days=6)
# Received Tuesday 10:00: counts that day, due at the end of the next working day.
DUE = at(WEDNESDAY, 16)


def test_clause3_done_by_the_due_time_is_kept_a_minute_later_is_breached() -> None:
    assert not is_breached(DUE, at(WEDNESDAY, 15, 59), now=at(MONDAY))
    assert not is_breached(DUE, DUE, now=at(MONDAY))  # exactly at the due time: kept
    assert is_breached(DUE, at(WEDNESDAY, 16, 1), now=at(TUESDAY))  # judged by when done


def test_clause3_open_is_breached_only_once_now_is_past_the_due_time() -> None:
    assert not is_breached(DUE, None, now=DUE)
    assert is_breached(DUE, None, now=DUE + timedelta(seconds=1))


def test_clause3_a_ticket_is_due_at_the_end_of_the_next_working_day() -> None:
    # Friday 15:59 counts Friday: due Monday 16:00 (the weekend is not working time).
    due = ticket_due(request(TicketKind.ANSWER, at(FRIDAY, 15, 59)), CAL, now=at(FRIDAY, 16))
    assert (due.due_at, due.answered, due.breached) == (at(MONDAY, 16), False, False)
    # Friday 16:30 counts at Monday's opening: due Tuesday 16:00, open on Wednesday: breached.
    late = ticket_due(
        request(TicketKind.ANSWER, at(FRIDAY, 16, 30)), CAL, now=at(MONDAY + timedelta(days=2))
    )
    assert (late.due_at, late.breached) == (at(MONDAY + timedelta(days=1), 16), True)
    answered = request(TicketKind.ACTION, at(TUESDAY), at(WEDNESDAY, 12))
    assert ticket_due(answered, CAL, now=at(MONDAY)).breached is False


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                    timezones=st.just(UTC)))  # fmt: skip
def test_clause3_no_request_is_due_sooner_than_soonest_due_after_it_came(
    received: datetime,
) -> None:
    assert CAL.due(received) - received > SOONEST_DUE


HALF_YEAR = contract(paid_from=date(2026, 1, 1), paid_until=date(2026, 6, 30))


def test_clause6_each_late_answer_moves_the_end_from_where_the_earlier_ones_left_it() -> None:
    # #1 due Wed 03-11 16:00, answered Thu 03-12 10:00: 18 h late, one started day.
    first = request(TicketKind.ANSWER, at(TUESDAY), at(TUESDAY + timedelta(days=2)), id=1)
    # #2 received Tue 03-17 10:00, due Wed 03-18 16:00, answered Fri 03-20 17:00:
    # 2 days 1 hour late, three started days.
    second = request(TicketKind.ACTION, at(MONDAY + timedelta(days=1)),
                     at(MONDAY + timedelta(days=4), 17), id=2)  # fmt: skip
    on_time = request(TicketKind.ANSWER, at(TUESDAY), at(WEDNESDAY, 9), id=3)
    unanswered = request(TicketKind.ANSWER, at(TUESDAY), None, id=4)
    other = request(TicketKind.ANSWER, at(TUESDAY), at(MONDAY), contract="C-2", id=5)
    caused = extensions_caused(HALF_YEAR, CAL, [second, on_time, unanswered, other, first])
    assert caused == {
        1: CausedExtension(1, 1, date(2026, 6, 30), date(2026, 7, 1)),
        2: CausedExtension(2, 3, date(2026, 7, 1), date(2026, 7, 4)),
    }


def test_clause6_answers_count_in_the_order_they_were_given_not_received() -> None:
    # #1 came first but was answered last (Monday 03-16 10:00: 4 days 18 h late -> 5 days);
    # #2, due 03-12 16:00, answered Friday 03-13 10:00 (18 h late -> 1 day).
    first = request(TicketKind.ANSWER, at(TUESDAY), at(MONDAY), id=1)
    second = request(TicketKind.ANSWER, at(WEDNESDAY), at(FRIDAY), id=2)
    caused = extensions_caused(HALF_YEAR, CAL, [first, second])
    assert caused[2] == CausedExtension(2, 1, date(2026, 6, 30), date(2026, 7, 1))
    assert caused[1] == CausedExtension(1, 5, date(2026, 7, 1), date(2026, 7, 6))


def test_clause6_an_answer_that_pushes_the_end_into_a_closure_takes_its_days_too() -> None:
    # A closure July 1-2, after the paid period: nothing until an answer one day late moves
    # the end to July 1, inside it; then both its days count: June 30 + 1 + 2 = July 3.
    cal = closures((date(2026, 7, 1), date(2026, 7, 2)))
    late = request(TicketKind.ANSWER, at(TUESDAY), at(TUESDAY + timedelta(days=2)), id=7)
    assert extensions_caused(HALF_YEAR, cal, [late]) == {
        7: CausedExtension(7, 1, date(2026, 6, 30), date(2026, 7, 3))
    }


def _f(code: FindingCode, clause: int, may_skip: bool = True) -> Finding:
    return Finding(code, clause, "kind" if clause in (8, 9) else "site_url", may_skip)


def test_clauses_8_9_a_general_or_modification_request_says_why_even_without_findings() -> None:
    # Logged from the command line: no checks were stored.
    assert [(f.code, f.clause) for f in skip_reasons(TicketKind.GENERAL, ())] == [
        (FindingCode.GENERAL_QUESTION, 8)
    ]
    assert [(f.code, f.clause) for f in skip_reasons(TicketKind.MODIFICATION, ())] == [
        (FindingCode.MODIFICATION, 9)
    ]


def test_clause4_missing_data_and_clause9_by_clause_never_twice() -> None:
    stored = (
        _f(FindingCode.MODIFICATION, 9),
        _f(FindingCode.SITE_URL_MISSING, 4),
        _f(FindingCode.OTHER_INSTALLATION, 5, may_skip=False),  # flagged, not a skip reason
    )
    reasons = skip_reasons(TicketKind.MODIFICATION, stored)
    assert [(f.code, f.clause) for f in reasons] == [
        (FindingCode.SITE_URL_MISSING, 4),
        (FindingCode.MODIFICATION, 9),
    ]


def test_a_precise_answer_with_its_data_may_not_be_skipped() -> None:
    assert skip_reasons(TicketKind.ANSWER, ()) == ()
    assert skip_reasons(TicketKind.ACTION, (_f(FindingCode.OTHER_INSTALLATION, 5, False),)) == ()


def test_clause3_one_calendar_asked_twice_the_same_day_before_and_after_closing() -> None:
    # A calendar remembers due times by day and by "after closing": the same Tuesday gives
    # Wednesday 16:00 before 16:00 and Thursday 16:00 after it, whichever is asked first.
    cal = Calendar()
    assert cal.due(at(TUESDAY, 16, 30)) == at(WEDNESDAY + timedelta(days=1), 16)
    assert cal.due(at(TUESDAY, 7, 0)) == at(WEDNESDAY, 16)
    assert cal.due(at(TUESDAY, 15, 59)) == at(WEDNESDAY, 16)
    assert cal.due(at(TUESDAY, 23, 59)) == at(WEDNESDAY + timedelta(days=1), 16)
    # A closure announced later is a new calendar: nothing remembered carries over.
    closed = closures((WEDNESDAY, WEDNESDAY))
    assert closed.due(at(TUESDAY, 10)) == at(WEDNESDAY + timedelta(days=1), 16)
