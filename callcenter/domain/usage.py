"""A contract's use of its allowance day by day (clause 7), for a manager's review: every
working day on which it used units or a consolidation changed its budget, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from callcenter.domain.allowance import Allowance, Consolidation, allowance_on
from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Contract, Request


def usage_by_day(
    contract: Contract,
    calendar: Calendar,
    requests: Iterable[Request],
    consolidations: Sequence[Consolidation] = (),
    limit: int = 60,
) -> list[Allowance]:
    """The allowance of each working day (at most `limit`, newest first) on which a request
    of this contract counts or a consolidation of it gives or takes the budget."""
    mine = [r for r in requests if r.contract == contract.number]
    grants = [g for g in consolidations if g.contract == contract.number]
    days = {calendar.received_on(r.received_at) for r in mine}
    for grant in grants:
        days.add(grant.day)
        day = grant.day
        for _ in range(grant.days - 1):
            day = calendar.next_working_day(day)
            days.add(day)
    working = sorted((d for d in days if calendar.is_working_day(d)), reverse=True)[:limit]
    return [allowance_on(contract, day, calendar, mine, grants) for day in working]
