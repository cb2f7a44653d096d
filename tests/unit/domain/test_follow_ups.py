"""What follows an ended call (domain/follow_ups.py, clause 3), on hand-worked examples."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from callcenter.domain.calendar import Calendar, Closure
from callcenter.domain.calls import Call, CallState, Outcome
from callcenter.domain.follow_ups import (
    FollowUp,
    JoinCallback,
    NewCallback,
    OpenCallback,
    callback_for,
    needs_identification,
    ticket_draft,
    what_follows,
)
from tests.unit.domain.builders import PHONE, at

WINDOW = timedelta(minutes=120)
TUESDAY = date(2026, 3, 10)


def ended(arrived: datetime, outcome: Outcome, route: str = "queue", **more: object) -> Call:
    return Call(
        linkedid="1.1", state=CallState.ENDED, arrived=arrived, route=route, outcome=outcome,
        ended=arrived + timedelta(minutes=3), **more,  # type: ignore[arg-type]
    )  # fmt: skip


def test_an_answered_call_opens_a_ticket_draft_received_when_answered() -> None:
    call = ended(at(TUESDAY, 10), Outcome.ANSWERED, answered=at(TUESDAY, 10, 1), operator="op2")
    assert what_follows(call, covered=True, caller_e164=PHONE) is FollowUp.TICKET_DRAFT
    assert what_follows(call, covered=False, caller_e164=None) is FollowUp.TICKET_DRAFT
    draft = ticket_draft(call)
    assert (draft.received_at, draft.operator, draft.created_at) == (
        at(TUESDAY, 10, 1), "op2", at(TUESDAY, 10, 3))  # fmt: skip
    assert (draft.kind, draft.status) == ("answer", "draft")


def test_a_covered_customers_missed_call_becomes_a_callback() -> None:
    for outcome in (Outcome.ABANDONED, Outcome.UNANSWERED, Outcome.CALLBACK_REQUESTED):
        call = ended(at(TUESDAY, 10), outcome)
        assert what_follows(call, covered=True, caller_e164=PHONE) is FollowUp.CALLBACK
    closed = ended(at(TUESDAY, 17), Outcome.REJECTED, route="closed")
    assert what_follows(closed, covered=True, caller_e164=PHONE) is FollowUp.CALLBACK


def test_no_callback_without_cover_a_number_or_a_miss() -> None:
    missed = ended(at(TUESDAY, 10), Outcome.ABANDONED)
    assert what_follows(missed, covered=False, caller_e164=PHONE) is FollowUp.NOTHING
    assert what_follows(missed, covered=True, caller_e164=None) is FollowUp.NOTHING
    limit = ended(at(TUESDAY, 10), Outcome.REJECTED, route="limit_reached")
    assert what_follows(limit, covered=True, caller_e164=PHONE) is FollowUp.NOTHING
    talking = Call(linkedid="1.2", state=CallState.ANSWERED, arrived=at(TUESDAY, 10))
    assert what_follows(talking, covered=True, caller_e164=PHONE) is FollowUp.NOTHING


def test_the_callback_is_due_by_the_end_of_the_next_working_day() -> None:
    cal = Calendar()
    # Tuesday 10:00 -> Wednesday 16:00.
    new = callback_for(ended(at(TUESDAY, 10), Outcome.ABANDONED), PHONE, "C-1", None, WINDOW, cal)
    assert isinstance(new, NewCallback)
    assert (new.due_at, new.calls, new.contract, new.requested) == (
        at(date(2026, 3, 11), 16), 1, "C-1", False)  # fmt: skip
    # Friday 17:00 counts on Monday: due Tuesday 16:00.
    friday = ended(at(date(2026, 3, 13), 17), Outcome.REJECTED, route="closed")
    assert callback_for(friday, PHONE, None, None, WINDOW, cal).due_at == at(date(2026, 3, 17), 16)
    # Tuesday 10 November: the 11th is Independence Day, so Thursday 12th 16:00.
    before_holiday = ended(at(date(2026, 11, 10), 15), Outcome.UNANSWERED)
    due = callback_for(before_holiday, PHONE, None, None, WINDOW, cal).due_at
    assert due == at(date(2026, 11, 12), 16)
    # An announced closure on Wednesday 11 March moves it to Thursday.
    closed = Calendar(closures=(Closure(date(2026, 3, 11), date(2026, 3, 11)),))
    late = callback_for(
        ended(at(TUESDAY, 10), Outcome.ABANDONED), PHONE, None, None, WINDOW, closed
    )
    assert late.due_at == at(date(2026, 3, 12), 16)


def test_a_repeat_call_within_the_window_joins_the_open_callback() -> None:
    open_one = OpenCallback(id=7, last_call_at=at(TUESDAY, 10), calls=1, requested=False)
    again = ended(at(TUESDAY, 12), Outcome.CALLBACK_REQUESTED)  # 120 minutes later: joins
    joined = callback_for(again, PHONE, "C-1", open_one, WINDOW, Calendar())
    assert joined == JoinCallback(id=7, last_call_at=at(TUESDAY, 12), calls=2, requested=True)
    later = ended(at(TUESDAY, 12, 0, 1), Outcome.ABANDONED)  # a second past the window
    assert isinstance(callback_for(later, PHONE, None, open_one, WINDOW, Calendar()), NewCallback)


def test_a_call_without_a_decision_is_identified_first() -> None:
    assert needs_identification(None, None)
    assert needs_identification(at(TUESDAY, 10), "fail_open")
    assert not needs_identification(at(TUESDAY, 10), "covered")
