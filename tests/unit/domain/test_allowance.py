"""Clause 7: the daily limit and consolidation (domain/allowance.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from builders import SATURDAY, TUESDAY, at, contract, request
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.allowance import (
    COST,
    Allowance,
    Consolidation,
    allowance_on,
    budget_on,
    resumes_at,
)
from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Contract
from callcenter.domain.terms import Reason, TicketKind

CAL = Calendar()
C1 = contract("C-1")
A, X, G, M = TicketKind.ANSWER, TicketKind.ACTION, TicketKind.GENERAL, TicketKind.MODIFICATION
THURSDAY, FRIDAY, MONDAY = date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 16)
NEXT_TUESDAY = date(2026, 3, 17)


def used_on(
    day: date,
    *kinds: TicketKind,
    c: Contract = C1,
    consolidations: Sequence[Consolidation] = (),
) -> Allowance:
    """The allowance of `c` on `day` after one request of each kind at 10:00, 10:01, ..."""
    requests = [request(k, at(day, 10, i), contract=c.number) for i, k in enumerate(kinds)]
    return allowance_on(c, day, CAL, requests, consolidations)


def test_clause7_default_budget_is_two_units() -> None:
    allowance = used_on(TUESDAY)
    assert (allowance.budget, allowance.used, allowance.left) == (2, 0, 2)
    assert not allowance.exhausted
    assert allowance.reason is None


def test_clause7_two_answers_use_the_day() -> None:
    allowance = used_on(TUESDAY, A, A)
    assert allowance.left == 0
    assert allowance.exhausted
    assert allowance.reason is Reason.ANSWERS_USED


def test_clause7_one_action_uses_the_day() -> None:
    allowance = used_on(TUESDAY, X)
    assert allowance.exhausted
    assert allowance.action_used
    assert allowance.reason is Reason.ACTION_USED


def test_clause7_one_answer_leaves_one_unit() -> None:
    allowance = used_on(TUESDAY, A)
    assert allowance.left == 1
    assert not allowance.exhausted
    assert allowance.reason is None


def test_clause7_an_answer_after_an_action_is_still_named_action_used() -> None:
    allowance = used_on(TUESDAY, A, X)
    assert allowance.used == 3
    assert allowance.left == 0
    assert allowance.reason is Reason.ACTION_USED


@pytest.mark.parametrize("kind", [G, M])
def test_clauses8_9_general_and_modification_requests_cost_nothing(kind: TicketKind) -> None:
    assert COST[kind] == 0
    allowance = used_on(TUESDAY, kind, kind, kind)
    assert allowance.used == 0
    assert not allowance.exhausted


def test_clause7_daily_units_override() -> None:
    three = contract("C-1", daily_units=3)
    assert not used_on(TUESDAY, A, A, c=three).exhausted
    assert used_on(TUESDAY, A, A, A, c=three).exhausted
    assert used_on(TUESDAY, X, A, c=three).exhausted
    one = contract("C-1", daily_units=1)
    assert used_on(TUESDAY, A, c=one).reason is Reason.ANSWERS_USED


def test_clause7_a_request_received_outside_hours_counts_on_the_next_working_day() -> None:
    evening = [request(A, at(FRIDAY, 17)), request(A, at(SATURDAY, 11))]
    assert allowance_on(C1, FRIDAY, CAL, evening).used == 0
    monday = allowance_on(C1, MONDAY, CAL, evening)
    assert monday.used == 2
    assert monday.reason is Reason.ANSWERS_USED


def test_clause7_the_limit_is_per_contract() -> None:
    others = [request(X, at(TUESDAY, 10), contract="C-2")]
    assert allowance_on(C1, TUESDAY, CAL, others).used == 0


def test_clause7_the_limit_is_per_day() -> None:
    yesterday = [request(X, at(TUESDAY - timedelta(days=1), 10))]
    assert allowance_on(C1, TUESDAY, CAL, yesterday).used == 0


def test_clause7_no_budget_on_a_day_that_is_not_a_working_day() -> None:
    assert budget_on(C1, SATURDAY, CAL, []).units == 0
    assert budget_on(C1, date(2026, 11, 11), CAL, []).units == 0


# -- consolidation ---------------------------------------------------------------------------

# Three days' allowance onto Thursday: Friday and Monday (the weekend skipped) give theirs up.
GRANT = Consolidation(contract="C-1", day=THURSDAY, days=3, id=1)


def test_clause7_a_given_up_day_is_named_consolidated_even_if_an_action_was_logged() -> None:
    allowance = used_on(FRIDAY, X, consolidations=[GRANT])
    assert allowance.used == 2
    assert allowance.reason is Reason.CONSOLIDATED


def test_clause7_consolidated_date_gets_n_budgets() -> None:
    assert budget_on(C1, THURSDAY, CAL, [GRANT]).units == 6
    allowance = used_on(THURSDAY, X, X, consolidations=[GRANT])
    assert allowance.left == 2
    assert not allowance.exhausted


def test_clause7_consolidation_uses_the_next_n_minus_1_working_days() -> None:
    for day in (FRIDAY, MONDAY):
        budget = budget_on(C1, day, CAL, [GRANT])
        assert (budget.units, budget.consolidated_away) == (0, True), day
        allowance = used_on(day, consolidations=[GRANT])
        assert allowance.exhausted
        assert allowance.reason is Reason.CONSOLIDATED
    # The weekend in between is not a given-up day, just not a working day.
    assert not budget_on(C1, SATURDAY, CAL, [GRANT]).consolidated_away
    # The day after the given-up days is an ordinary day.
    assert budget_on(C1, NEXT_TUESDAY, CAL, [GRANT]).units == 2
    assert budget_on(C1, NEXT_TUESDAY, CAL, [GRANT]).consolidated_away is False


def test_clause7_consolidation_skips_holidays_when_giving_up_days() -> None:
    # Tuesday 10 November, 3 days: the 11th is a holiday, so the 12th and 13th are given up.
    grant = Consolidation(contract="C-1", day=date(2026, 11, 10), days=3)
    assert budget_on(C1, date(2026, 11, 10), CAL, [grant]).units == 6
    assert not budget_on(C1, date(2026, 11, 11), CAL, [grant]).consolidated_away
    assert budget_on(C1, date(2026, 11, 12), CAL, [grant]).consolidated_away
    assert budget_on(C1, date(2026, 11, 13), CAL, [grant]).consolidated_away
    assert budget_on(C1, date(2026, 11, 16), CAL, [grant]).units == 2


def test_clause7_consolidation_respects_daily_units() -> None:
    three = contract("C-1", daily_units=3)
    assert budget_on(three, THURSDAY, CAL, [GRANT]).units == 9


def test_clause7_consolidation_of_one_day_changes_nothing() -> None:
    grant = Consolidation(contract="C-1", day=THURSDAY, days=1)
    assert budget_on(C1, THURSDAY, CAL, [grant]).units == 2
    assert budget_on(C1, FRIDAY, CAL, [grant]).units == 2


def test_clause7_consolidation_is_per_contract() -> None:
    other = contract("C-2")
    assert budget_on(other, THURSDAY, CAL, [GRANT]).units == 2
    assert budget_on(other, FRIDAY, CAL, [GRANT]).units == 2


def test_clause7_consolidation_of_fewer_than_one_day_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        Consolidation(contract="C-1", day=THURSDAY, days=0)


def test_clause7_service_resumes_at_the_next_working_day_opening() -> None:
    assert resumes_at(C1, TUESDAY, CAL) == at(TUESDAY + timedelta(days=1), 8)
    assert resumes_at(C1, FRIDAY, CAL) == at(MONDAY, 8)
    assert resumes_at(C1, date(2026, 11, 10), CAL) == at(date(2026, 11, 12), 8)


def test_clause7_resumes_at_after_consolidation_skips_the_given_up_days() -> None:
    assert resumes_at(C1, THURSDAY, CAL, [GRANT]) == at(NEXT_TUESDAY, 8)
    # Asked on a given-up day, too.
    assert resumes_at(C1, FRIDAY, CAL, [GRANT]) == at(NEXT_TUESDAY, 8)


# -- property --------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(list(TicketKind)), max_size=8),
    units=st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
    consolidated=st.integers(min_value=0, max_value=3),
)
def test_property_clause7_allowance_arithmetic(
    kinds: list[TicketKind], units: int | None, consolidated: int
) -> None:
    c = contract("C-1", daily_units=units)
    grants = [Consolidation("C-1", TUESDAY, consolidated)] if consolidated else []
    allowance = used_on(TUESDAY, *kinds, c=c, consolidations=grants)
    recorded = sum(COST[k] for k in kinds)
    assert allowance.used == recorded
    assert allowance.budget == c.units_per_day * max(consolidated, 1)
    assert allowance.left == max(allowance.budget - allowance.used, 0)
    assert allowance.exhausted == (allowance.left < 1)
    assert (allowance.reason is None) == (not allowance.exhausted)
    if allowance.exhausted:
        expected = Reason.ACTION_USED if X in kinds else Reason.ANSWERS_USED
        assert allowance.reason is expected
