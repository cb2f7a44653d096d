"""Small builders for the domain unit tests: contracts, requests, Warsaw instants.

Every instant is aware and in Europe/Warsaw; no test reads the clock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import WARSAW, Calendar, Closure
from callcenter.domain.contracts import Contract, Request
from callcenter.domain.phone import normalise
from callcenter.domain.routing import Candidate, Decision, assess, decide
from callcenter.domain.terms import Billing, Plan, Product, TicketKind

PHONE = "+48601234567"
OTHER_PHONE = "+48601234568"

# Reference days in 2026 (checked against the `holidays` package, Poland).
TUESDAY = date(2026, 3, 10)  # an ordinary working day
SATURDAY = date(2026, 3, 14)
INDEPENDENCE_DAY = date(2026, 11, 11)  # Wednesday, public holiday


def at(day: date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """`day` at hh:mm:ss on Warsaw's wall clock."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=WARSAW)


def contract(
    number: str = "C-1",
    *,
    plan: Plan = Plan.PHONE,
    paid_from: date = date(2026, 1, 1),
    paid_until: date = date(2026, 12, 31),
    phones: tuple[str, ...] = (PHONE,),
    daily_units: int | None = None,
    **overrides: Any,
) -> Contract:
    fields: dict[str, Any] = {
        "number": number,
        "customer": f"Customer of {number}",
        "plan": plan,
        "billing": Billing.YEARLY,
        "paid_from": paid_from,
        "paid_until": paid_until,
        "product": Product.SMODCMS,
        "site_url": "https://example.pl",
        "phones": phones,
        "email": "it@example.pl",
        "accepted_at": datetime(2025, 12, 20, 12, 0, tzinfo=WARSAW),
        "daily_units": daily_units,
    }
    fields.update(overrides)
    return Contract(**fields)


def request(
    kind: TicketKind,
    received_at: datetime,
    answered_at: datetime | None = None,
    *,
    contract: str = "C-1",
    id: int | None = None,
) -> Request:
    return Request(
        contract=contract, kind=kind, received_at=received_at, answered_at=answered_at, id=id
    )


def closures(*ranges: tuple[date, date]) -> Calendar:
    """A calendar with closures numbered 1, 2, ... in the order given."""
    return Calendar(
        closures=tuple(Closure(first, last, id=i) for i, (first, last) in enumerate(ranges, 1))
    )


def route(
    caller: str | None,
    now: datetime,
    contracts: list[Contract] | tuple[Contract, ...] = (),
    *,
    calendar: Calendar | None = None,
    requests: tuple[Request, ...] | list[Request] = (),
    consolidations: tuple[Consolidation, ...] | list[Consolidation] = (),
) -> Decision:
    """The decision for `caller` at `now`, with candidates assessed as the shell would."""
    cal = calendar or Calendar()
    candidates: list[Candidate] = [
        assess(c, now, cal, list(requests), list(consolidations)) for c in contracts
    ]
    return decide(normalise(caller), now, cal, candidates)
