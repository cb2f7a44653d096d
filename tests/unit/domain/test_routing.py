"""DESIGN.md routing contract: the precedence table, first match wins (domain/routing.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from builders import (
    INDEPENDENCE_DAY,
    OTHER_PHONE,
    PHONE,
    SATURDAY,
    TUESDAY,
    at,
    closures,
    contract,
    request,
    route,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.contracts import Contract, Request
from callcenter.domain.phone import normalise
from callcenter.domain.routing import assess, decide
from callcenter.domain.terms import Plan, Reason, Route, TicketKind

NOW = at(TUESDAY, 10)
WEDNESDAY_OPENS = at(TUESDAY + timedelta(days=1), 8)
A, X = TicketKind.ANSWER, TicketKind.ACTION

ACTIVE = contract("C-1")
OTHER_ACTIVE = contract("C-2")
EMAIL = contract("E-1", plan=Plan.EMAIL)
EXPIRED = contract("X-1", paid_from=date(2025, 1, 1), paid_until=date(2026, 3, 9))
NOT_STARTED = contract("N-1", paid_from=date(2026, 3, 11), paid_until=date(2027, 3, 10))
PROFESSIONAL = contract("P-1", plan=Plan.PROFESSIONAL)

# DESIGN.md: which reason codes each route may carry.
ROUTE_REASONS = {
    Route.ANONYMOUS: {Reason.WITHHELD, Reason.INVALID},
    Route.CLOSED: {Reason.WEEKEND, Reason.HOLIDAY, Reason.CLOSURE, Reason.OUTSIDE_HOURS},
    Route.NO_CONTRACT: {Reason.UNKNOWN_NUMBER},
    Route.EMAIL_ONLY: {Reason.EMAIL_PLAN},
    Route.EXPIRED: {Reason.EXPIRED, Reason.NOT_STARTED},
    Route.LIMIT_REACHED: {Reason.ACTION_USED, Reason.ANSWERS_USED, Reason.CONSOLIDATED},
    Route.QUEUE: {Reason.COVERED, Reason.AMBIGUOUS},
}


def used_today(*kinds: TicketKind, number: str = "C-1") -> list[Request]:
    return [request(k, at(TUESDAY, 9, i), contract=number) for i, k in enumerate(kinds)]


# -- 1. anonymous ----------------------------------------------------------------------------


@pytest.mark.parametrize("caller", [None, "", "anonymous", "Anonymous", "restricted"])
def test_route1_withheld_number_is_anonymous(caller: str | None) -> None:
    decision = route(caller, NOW, [ACTIVE])
    assert (decision.route, decision.reason, decision.rule) == (
        Route.ANONYMOUS,
        Reason.WITHHELD,
        "anonymous",
    )
    assert decision.contract is None
    assert decision.number is None


@pytest.mark.parametrize("caller", ["abc", "12", "601234567;drop table"])
def test_route1_a_caller_id_that_is_not_a_number_is_anonymous_invalid(caller: str) -> None:
    decision = route(caller, NOW)
    assert (decision.route, decision.reason) == (Route.ANONYMOUS, Reason.INVALID)
    assert caller in decision.why


def test_precedence_anonymous_beats_closed() -> None:
    decision = route("anonymous", at(SATURDAY, 10))
    assert decision.route is Route.ANONYMOUS


# -- 2. closed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "calendar", "reason", "opens"),
    [
        (at(SATURDAY, 10), Calendar(), Reason.WEEKEND, at(date(2026, 3, 16), 8)),
        (at(INDEPENDENCE_DAY, 10), Calendar(), Reason.HOLIDAY, at(date(2026, 11, 12), 8)),
        (
            NOW,
            closures((TUESDAY, date(2026, 3, 11))),
            Reason.CLOSURE,
            at(date(2026, 3, 12), 8),
        ),
        (at(TUESDAY, 7, 59), Calendar(), Reason.OUTSIDE_HOURS, at(TUESDAY, 8)),
        (at(TUESDAY, 16), Calendar(), Reason.OUTSIDE_HOURS, WEDNESDAY_OPENS),
    ],
)
def test_route2_closed_names_the_reason_and_the_next_opening(
    now: datetime, calendar: Calendar, reason: Reason, opens: datetime
) -> None:
    decision = route(PHONE, now, [ACTIVE], calendar=calendar)
    assert (decision.route, decision.reason, decision.rule) == (Route.CLOSED, reason, "closed")
    assert decision.next_open == opens
    assert opens.isoformat() in decision.why


def test_route2_closed_still_identifies_a_covered_customer_for_the_callback() -> None:
    decision = route(PHONE, at(SATURDAY, 10), [ACTIVE])
    assert decision.contract == "C-1"
    assert decision.covered is True


def test_route2_closed_after_todays_limit_still_identifies_the_active_contract() -> None:
    decision = route(PHONE, at(TUESDAY, 17), [ACTIVE], requests=used_today(X))
    assert decision.route is Route.CLOSED
    assert decision.contract == "C-1"
    assert decision.covered is True


@pytest.mark.parametrize("contracts", [[EXPIRED], [EMAIL], []])
def test_route2_closed_is_not_covered_without_an_active_phone_contract(
    contracts: list[Contract],
) -> None:
    decision = route(PHONE, at(SATURDAY, 10), contracts)
    assert decision.route is Route.CLOSED
    assert decision.contract is None
    assert decision.covered is False


def test_route2_closed_with_two_active_contracts_names_none_but_is_covered() -> None:
    decision = route(PHONE, at(SATURDAY, 10), [ACTIVE, OTHER_ACTIVE])
    assert decision.contract is None
    assert decision.covered is True
    assert decision.contracts == ("C-1", "C-2")


def test_precedence_closed_beats_no_contract() -> None:
    assert route(OTHER_PHONE, at(SATURDAY, 10)).route is Route.CLOSED


# -- 3. no_contract --------------------------------------------------------------------------


def test_route3_clause2_a_number_in_no_contract_gets_no_contract() -> None:
    decision = route(OTHER_PHONE, NOW)
    assert (decision.route, decision.reason, decision.rule) == (
        Route.NO_CONTRACT,
        Reason.UNKNOWN_NUMBER,
        "no_contract",
    )
    assert decision.contract is None
    assert decision.contracts == ()
    assert decision.covered is False
    assert decision.number == OTHER_PHONE


# -- 4. email_only ---------------------------------------------------------------------------


def test_route4_plans_an_email_customer_who_phones_is_told_to_write_in() -> None:
    decision = route(PHONE, NOW, [EMAIL])
    assert (decision.route, decision.reason, decision.rule) == (
        Route.EMAIL_ONLY,
        Reason.EMAIL_PLAN,
        "email_only",
    )
    assert decision.contract == "E-1"
    assert decision.covered is False


def test_route4_several_email_contracts_name_none() -> None:
    decision = route(PHONE, NOW, [EMAIL, contract("E-2", plan=Plan.EMAIL)])
    assert decision.route is Route.EMAIL_ONLY
    assert decision.contract is None
    assert decision.contracts == ("E-1", "E-2")


def test_precedence_email_only_needs_all_contracts_email_an_expired_phone_one_is_expired() -> None:
    decision = route(PHONE, NOW, [EMAIL, EXPIRED])
    assert (decision.route, decision.reason) == (Route.EXPIRED, Reason.EXPIRED)
    assert decision.contract == "X-1"


# -- 5. expired ------------------------------------------------------------------------------


def test_route5_clause3_a_phone_contract_past_its_effective_end_is_expired() -> None:
    decision = route(PHONE, NOW, [EXPIRED])
    assert (decision.route, decision.reason, decision.rule) == (
        Route.EXPIRED,
        Reason.EXPIRED,
        "expired",
    )
    assert decision.contract == "X-1"
    assert decision.covered is False


def test_route5_clause3_a_phone_contract_not_yet_paid_is_not_started() -> None:
    decision = route(PHONE, NOW, [NOT_STARTED])
    assert (decision.route, decision.reason) == (Route.EXPIRED, Reason.NOT_STARTED)


def test_route5_not_started_only_when_every_phone_contract_is_not_started() -> None:
    decision = route(PHONE, NOW, [EXPIRED, NOT_STARTED])
    assert (decision.route, decision.reason) == (Route.EXPIRED, Reason.EXPIRED)
    assert decision.contract is None


def test_route5_clause6_a_closure_keeps_a_contract_active_past_paid_until() -> None:
    # Paid until Monday 9 March, but a closure in February extends it past Tuesday.
    cal = closures((date(2026, 2, 2), date(2026, 2, 3)))
    decision = route(PHONE, NOW, [EXPIRED], calendar=cal)
    assert (decision.route, decision.reason) == (Route.QUEUE, Reason.COVERED)


def test_route5_clause6_a_late_answer_keeps_a_contract_active_past_paid_until() -> None:
    received = at(date(2026, 3, 2), 10)  # Monday: due Tuesday 3 March 16:00
    late = request(A, received, at(date(2026, 3, 4), 16, 1), contract="X-1")
    decision = route(PHONE, NOW, [EXPIRED], requests=[late])
    assert decision.route is Route.QUEUE


def test_route5_expiry_is_judged_on_warsaw_date_not_utc() -> None:
    # 23:30 UTC on 9 March is already 10 March in Warsaw: closed, and expired customer.
    now = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    decision = route(PHONE, now, [EXPIRED])
    assert decision.route is Route.CLOSED
    assert decision.covered is False


# -- 6. limit_reached ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "reason"),
    [((A, A), Reason.ANSWERS_USED), ((X,), Reason.ACTION_USED), ((A, X), Reason.ACTION_USED)],
)
def test_route6_clause7_used_allowance_reaches_the_limit_and_says_when_it_resumes(
    kinds: tuple[TicketKind, ...], reason: Reason
) -> None:
    decision = route(PHONE, NOW, [ACTIVE], requests=used_today(*kinds))
    assert (decision.route, decision.reason, decision.rule) == (
        Route.LIMIT_REACHED,
        reason,
        "limit_reached",
    )
    assert decision.contract == "C-1"
    assert decision.covered is True
    assert decision.next_open == WEDNESDAY_OPENS


def test_route6_clause7_one_answer_still_goes_through() -> None:
    decision = route(PHONE, NOW, [ACTIVE], requests=used_today(A))
    assert (decision.route, decision.reason) == (Route.QUEUE, Reason.COVERED)


def test_route6_clause7_consolidated_away_day_resumes_after_the_given_up_days() -> None:
    # Monday 9 March got three days' allowance; Tuesday and Wednesday gave theirs up.
    grant = Consolidation(contract="C-1", day=date(2026, 3, 9), days=3)
    decision = route(PHONE, NOW, [ACTIVE], consolidations=[grant])
    assert (decision.route, decision.reason) == (Route.LIMIT_REACHED, Reason.CONSOLIDATED)
    assert decision.next_open == at(date(2026, 3, 12), 8)


def test_route6_clause7_consolidated_day_has_n_budgets() -> None:
    grant = Consolidation(contract="C-1", day=TUESDAY, days=2)
    decision = route(PHONE, NOW, [ACTIVE], requests=used_today(X), consolidations=[grant])
    assert decision.route is Route.QUEUE
    decision = route(PHONE, NOW, [ACTIVE], requests=used_today(X, X), consolidations=[grant])
    assert decision.route is Route.LIMIT_REACHED
    assert decision.next_open == at(date(2026, 3, 12), 8)  # Wednesday was given up


def test_route6_every_active_contract_exhausted_resumes_at_the_earliest() -> None:
    grant = Consolidation(contract="C-2", day=date(2026, 3, 9), days=3)
    decision = route(
        PHONE,
        NOW,
        [ACTIVE, OTHER_ACTIVE],
        requests=used_today(X),
        consolidations=[grant],
    )
    assert decision.route is Route.LIMIT_REACHED
    assert decision.contract is None
    assert decision.next_open == WEDNESDAY_OPENS


def test_route6_limit_does_not_look_at_other_contracts_usage() -> None:
    decision = route(PHONE, NOW, [ACTIVE], requests=used_today(X, number="C-9"))
    assert decision.route is Route.QUEUE


# -- 7. queue --------------------------------------------------------------------------------


@pytest.mark.parametrize("covering", [ACTIVE, PROFESSIONAL])
def test_route7_a_covered_call_goes_to_the_queue(covering: Contract) -> None:
    decision = route(PHONE, NOW, [covering])
    assert (decision.route, decision.reason, decision.rule) == (
        Route.QUEUE,
        Reason.COVERED,
        "queue",
    )
    assert decision.contract == covering.number
    assert decision.contracts == (covering.number,)
    assert decision.covered is True
    assert decision.next_open is None


def test_route7_clause3_several_usable_contracts_are_ambiguous() -> None:
    decision = route(PHONE, NOW, [OTHER_ACTIVE, ACTIVE])
    assert (decision.route, decision.reason) == (Route.QUEUE, Reason.AMBIGUOUS)
    assert decision.contract is None
    assert decision.contracts == ("C-1", "C-2")


def test_route7_ambiguous_lists_only_usable_contracts() -> None:
    exhausted = contract("C-3")
    decision = route(
        PHONE,
        NOW,
        [ACTIVE, OTHER_ACTIVE, EMAIL, EXPIRED, NOT_STARTED, exhausted],
        requests=used_today(X, number="C-3"),
    )
    assert (decision.route, decision.reason) == (Route.QUEUE, Reason.AMBIGUOUS)
    assert decision.contracts == ("C-1", "C-2")


@pytest.mark.parametrize(
    ("other", "requests"),
    [
        (EMAIL, []),
        (EXPIRED, []),
        (NOT_STARTED, []),
        (contract("C-0"), [request(X, at(TUESDAY, 9), contract="C-0")]),
    ],
    ids=["email", "expired", "not_started", "exhausted"],
)
def test_route7_a_usable_contract_beats_an_unusable_one_on_the_same_number(
    other: Contract,
    requests: list[Request],
) -> None:
    decision = route(PHONE, NOW, [other, ACTIVE], requests=requests)
    assert (decision.route, decision.reason) == (Route.QUEUE, Reason.COVERED)
    assert decision.contract == "C-1"
    assert decision.contracts == ("C-1",)


# -- the decision as a whole -----------------------------------------------------------------


def test_decide_rejects_a_naive_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        decide(normalise(PHONE), datetime(2026, 3, 10, 10, 0), Calendar(), [])


def test_decide_orders_candidates_by_contract_number() -> None:
    decision = route(PHONE, at(SATURDAY, 10), [contract("B"), contract("A")])
    assert decision.contracts == ("A", "B")


# -- property: one route, one consistent reason, queue only when someone is usable -----------

kinds = st.sampled_from(list(TicketKind))
plans = st.sampled_from(list(Plan))


@st.composite
def contracts_on_a_number(draw: st.DrawFn) -> list[Contract]:
    result = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        start = draw(st.dates(min_value=date(2025, 10, 1), max_value=date(2026, 9, 1)))
        length = draw(st.integers(min_value=0, max_value=200))
        units = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
        result.append(
            contract(
                f"C-{i}",
                plan=draw(plans),
                paid_from=start,
                paid_until=start + timedelta(days=length),
                daily_units=units,
            )
        )
    return result


@settings(max_examples=60, deadline=None)
@given(
    caller=st.sampled_from([PHONE, None, "abc", "anonymous"]),
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    contracts=contracts_on_a_number(),
    used=st.lists(st.tuples(st.integers(min_value=0, max_value=2), kinds), max_size=5),
    grant=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(-3, 0), st.integers(1, 3))),
)
def test_property_decide_returns_one_route_with_a_reason_from_its_row(
    caller: str | None,
    now: datetime,
    contracts: list[Contract],
    used: list[tuple[int, TicketKind]],
    grant: tuple[int, int, int] | None,
) -> None:
    cal = Calendar()
    requests = [
        request(kind, now - timedelta(minutes=i + 1), contract=f"C-{n}")
        for i, (n, kind) in enumerate(used)
    ]
    consolidations = []
    if grant is not None:
        n, offset, days = grant
        day = now.astimezone(WARSAW).date() + timedelta(days=offset)
        consolidations.append(Consolidation(f"C-{n}", day, days))
    candidates = [assess(c, now, cal, requests, consolidations) for c in contracts]

    decision = decide(normalise(caller), now, cal, candidates)

    assert decision.route in set(Route)
    assert decision.reason in ROUTE_REASONS[decision.route]
    assert decision.rule == decision.route.value
    usable = [c.number for c in candidates if c.usable(now)]
    if decision.route is Route.QUEUE:
        assert usable
        assert decision.contracts == tuple(sorted(usable))
        assert (decision.reason is Reason.AMBIGUOUS) == (len(usable) > 1)
        assert decision.contract == (usable[0] if len(usable) == 1 else None)
    if decision.route in (Route.CLOSED, Route.LIMIT_REACHED):
        assert decision.next_open is not None
        assert decision.next_open > now
    if decision.route is not Route.ANONYMOUS:
        active = [c for c in candidates if c.active(now)]
        assert decision.covered == bool(active)
