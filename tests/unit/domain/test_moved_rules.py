"""The rules that moved into the core (issue 10, item 4): the consolidation checks and the
other-installation flag (clauses 5 and 7, once in cli.py), the fail-open decision (once in
dialplan/routing.py), and a decision's `why` in the terms' words when a day's allowance was
consolidated into another day."""

from __future__ import annotations

from datetime import date

from builders import PHONE, TUESDAY, at, contract, route

from callcenter.domain.allowance import Consolidation, allowance_on, consolidation_refusal
from callcenter.domain.calendar import Calendar, Closure
from callcenter.domain.phone import normalise
from callcenter.domain.routing import fail_open
from callcenter.domain.terms import Reason, Route
from callcenter.domain.tickets import about_other_site

C1 = contract("C-1", site_url="https://www.example.pl/shop/")
MONDAY = date(2026, 3, 9)


def test_clause7_a_consolidation_is_granted_onto_a_working_day_once() -> None:
    cal = Calendar()
    grant = Consolidation("C-1", TUESDAY, 2)
    assert consolidation_refusal(grant, cal, []) is None
    assert consolidation_refusal(grant, cal, [Consolidation("C-2", TUESDAY, 3)]) is None
    assert (
        consolidation_refusal(grant, cal, [Consolidation("C-1", TUESDAY, 3)])
        == "C-1 already has a consolidation on 2026-03-10"
    )
    saturday = Consolidation("C-1", date(2026, 3, 14), 2)
    assert consolidation_refusal(saturday, cal, []) == "2026-03-14 is not a working day"
    holiday = Consolidation("C-1", date(2026, 11, 11), 2)
    assert consolidation_refusal(holiday, cal, []) == "2026-11-11 is not a working day"
    closed = Calendar(closures=(Closure(TUESDAY, TUESDAY),))
    assert consolidation_refusal(grant, closed, []) == "2026-03-10 is not a working day"


def test_clause5_a_request_about_another_site_is_flagged() -> None:
    assert not about_other_site(C1, "")
    assert not about_other_site(C1, "   ")
    assert not about_other_site(C1, "http://example.pl/shop/cart")
    assert about_other_site(C1, "https://example.pl/blog")
    assert about_other_site(C1, "https://other.example.pl/shop/")


def test_fail_open_lets_the_caller_through_in_working_time_and_says_closed_outside() -> None:
    caller = normalise("601234567", "PL")
    open_ = fail_open(caller, at(TUESDAY, 10), Calendar())
    assert (open_.route, open_.reason, open_.next_open, open_.rule) == (
        Route.QUEUE, Reason.FAIL_OPEN, None, "fail_open")  # fmt: skip
    assert open_.why == "the routing decision did not come in time"
    late = fail_open(caller, at(TUESDAY, 16), Calendar())
    assert (late.route, late.reason, late.next_open) == (
        Route.CLOSED, Reason.FAIL_OPEN, at(date(2026, 3, 11), 8))  # fmt: skip
    holiday = fail_open(caller, at(date(2026, 11, 11), 10), Calendar())
    assert (holiday.route, holiday.next_open) == (Route.CLOSED, at(date(2026, 11, 12), 8))
    assert fail_open(caller, at(TUESDAY, 10), Calendar()).contract is None


def test_why_names_the_day_a_consolidated_allowance_went_to() -> None:
    # Monday 9 March got three days' allowance; Tuesday and Wednesday gave theirs up.
    grant = Consolidation(contract="C-1", day=MONDAY, days=3)
    decision = route(PHONE, at(TUESDAY, 10), [contract("C-1")], consolidations=[grant])
    assert decision.reason is Reason.CONSOLIDATED
    assert decision.why == (
        "today's allowance is used: C-1's allowance for today was consolidated into "
        "2026-03-09; service resumes 2026-03-12T08:00:00+01:00"
    )
    assert "used 0 of 0" not in decision.why
    wednesday = allowance_on(contract("C-1"), date(2026, 3, 11), Calendar(), [], [grant])
    assert (wednesday.budget, wednesday.consolidated_onto) == (0, MONDAY)
