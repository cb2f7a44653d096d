"""The daily limit (clause 7): what a contract may still use on a working day.

Theory of operation: each contract has a budget of units per working day (default 2, a contract
may set its own). An `answer` costs 1 unit, an `action` 2 (so the default budget is "two answers
or one action"); `general` and `modification` requests (clauses 8 and 9) cost nothing, since they
may be skipped. A request counts on the working day it counts as received (calendar).

A manager may consolidate N working days' allowance onto one date: that date gets N budgets, and
the next N-1 working days after it get none (reason `consolidated`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from callcenter.domain.calendar import Calendar, at_opening
from callcenter.domain.contracts import Contract, Request
from callcenter.domain.terms import Reason, TicketKind

COST: dict[TicketKind, int] = {
    TicketKind.ANSWER: 1,
    TicketKind.ACTION: 2,
    TicketKind.GENERAL: 0,
    TicketKind.MODIFICATION: 0,
}
# The cheapest billable request: with fewer units left, nothing more fits today.
_SMALLEST_COST = min(cost for cost in COST.values() if cost > 0)


@dataclass(frozen=True, slots=True)  # many in the routing snapshot
class Consolidation:
    """N working days' allowance of one contract moved onto one date."""

    contract: str
    day: date
    days: int
    id: int | None = None

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"a consolidation covers at least one day, not {self.days}")


@dataclass(frozen=True)
class Budget:
    units: int
    consolidated_away: bool = False
    consolidated_onto: date | None = None  # the day this day's allowance went to


@dataclass(frozen=True)
class Allowance:
    """A contract's allowance on one working day."""

    day: date
    budget: int
    used: int
    consolidated_away: bool
    action_used: bool
    consolidated_onto: date | None = None  # the day this day's allowance went to

    @property
    def left(self) -> int:
        return max(self.budget - self.used, 0)

    @property
    def exhausted(self) -> bool:
        return self.left < _SMALLEST_COST

    @property
    def reason(self) -> Reason | None:
        """Why nothing more fits today (`consolidated`, `action_used`, `answers_used`)."""
        if not self.exhausted:
            return None
        if self.consolidated_away:
            return Reason.CONSOLIDATED
        if self.action_used:
            return Reason.ACTION_USED
        return Reason.ANSWERS_USED


def budget_on(
    contract: Contract, day: date, calendar: Calendar, consolidations: Iterable[Consolidation]
) -> Budget:
    """The units a contract may use on `day`, after consolidations."""
    if not calendar.is_working_day(day):
        return Budget(units=0)
    for grant in consolidations:
        if grant.contract != contract.number:
            continue
        if grant.day == day:
            return Budget(units=contract.units_per_day * grant.days)
        if day in _days_given_up(grant, calendar):
            return Budget(units=0, consolidated_away=True, consolidated_onto=grant.day)
    return Budget(units=contract.units_per_day)


def consolidation_refusal(
    grant: Consolidation, calendar: Calendar, existing: Iterable[Consolidation]
) -> str | None:
    """Why a manager cannot grant this consolidation (clause 7), or None: the day that gets
    the budgets must be a working day, and a contract has one consolidation per day."""
    if not calendar.is_working_day(grant.day):
        return f"{grant.day} is not a working day"
    if any(g.contract == grant.contract and g.day == grant.day for g in existing):
        return f"{grant.contract} already has a consolidation on {grant.day}"
    return None


def _days_given_up(grant: Consolidation, calendar: Calendar) -> list[date]:
    """The N-1 working days after a consolidation date whose allowance it used."""
    days: list[date] = []
    day = grant.day
    for _ in range(grant.days - 1):
        day = calendar.next_working_day(day)
        days.append(day)
    return days


def allowance_on(
    contract: Contract,
    day: date,
    calendar: Calendar,
    requests: Iterable[Request],
    consolidations: Sequence[Consolidation] = (),
) -> Allowance:
    """What `contract` has and has used on working day `day`."""
    budget = budget_on(contract, day, calendar, consolidations)
    todays = [
        r
        for r in requests
        if r.contract == contract.number and calendar.received_on(r.received_at) == day
    ]
    return Allowance(
        day=day,
        budget=budget.units,
        used=sum(COST[r.kind] for r in todays),
        consolidated_away=budget.consolidated_away,
        action_used=any(r.kind is TicketKind.ACTION for r in todays),
        consolidated_onto=budget.consolidated_onto,
    )


def resumes_at(
    contract: Contract,
    after: date,
    calendar: Calendar,
    consolidations: Sequence[Consolidation] = (),
) -> datetime:
    """The opening of the first working day after `after` with a budget for this contract."""
    day = calendar.next_working_day(after)
    # Bounded: consolidations are finite, so a day with a budget comes soon.
    for _ in range(1000):
        if budget_on(contract, day, calendar, consolidations).units > 0:
            return at_opening(day)
        day = calendar.next_working_day(day)
    raise ValueError(f"contract {contract.number} has no budget on any day after {after}")
