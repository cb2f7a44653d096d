"""Contracts and their effective paid period (clauses 1, 3, 5, 6).

Theory of operation: a contract is paid from `paid_from` to `paid_until` (both inclusive).
Clause 6 extends that period by one day for every calendar day of an announced closure that
falls within it, and by one day for every started day of delay of a late answer (a ticket
answered after its due time). An extension can push the end into another closure, whose days
then extend it again: the effective end is the fixed point of that rule. Every extension is
kept with what caused it, so the end date can be explained.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from operator import attrgetter

from callcenter.domain.calendar import SOONEST_DUE, Calendar
from callcenter.domain.terms import Billing, Plan, Product, Reason, TicketKind

DEFAULT_DAILY_UNITS = 2


@dataclass(frozen=True, slots=True)  # many in the routing snapshot
class Contract:
    """One order: number, plan, billing, paid period, covered installation, named contacts."""

    number: str
    customer: str
    plan: Plan
    billing: Billing
    paid_from: date
    paid_until: date
    product: Product
    site_url: str
    phones: tuple[str, ...]
    email: str
    accepted_at: datetime
    daily_units: int | None = None

    @property
    def units_per_day(self) -> int:
        return DEFAULT_DAILY_UNITS if self.daily_units is None else self.daily_units

    def __reduce__(self) -> tuple[type[Contract], tuple[object, ...]]:
        """Pickled as its fields, in order (a file's checker sends many to the importer:
        contract_file.py); the default for a frozen slotted dataclass looks up its fields
        for each one, which costs more than all the rest."""
        return Contract, _contract_fields(self)


_contract_fields = attrgetter(*(f.name for f in fields(Contract)))


@dataclass(frozen=True, slots=True)  # many in the routing snapshot
class Request:
    """What the rules need of a ticket: when it came, when it was answered, its kind."""

    contract: str
    kind: TicketKind
    received_at: datetime
    answered_at: datetime | None = None
    id: int | None = None


class ExtensionCause(StrEnum):
    CLOSURE = "closure"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)  # many in the routing snapshot
class Extension:
    cause: ExtensionCause
    days: int
    why: str
    closure_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)  # many in the routing snapshot
class EffectivePeriod:
    paid_from: date
    paid_until: date
    effective_until: date
    extensions: tuple[Extension, ...]

    def standing_on(self, day: date) -> Reason | None:
        """None when `day` is within the period, else `not_started` or `expired`."""
        if day < self.paid_from:
            return Reason.NOT_STARTED
        if day > self.effective_until:
            return Reason.EXPIRED
        return None


def delay_days(request: Request, calendar: Calendar) -> int:
    """Started days of delay of an answer after its due time (0 if on time or unanswered)."""
    if request.answered_at is None or request.answered_at - request.received_at <= SOONEST_DUE:
        return 0  # answered before any request can be due (without asking the calendar)
    late = request.answered_at - calendar.due(request.received_at)
    if late <= timedelta(0):
        return 0
    return math.ceil(late / timedelta(days=1))


def effective_period(
    contract: Contract, calendar: Calendar, requests: Iterable[Request] = ()
) -> EffectivePeriod:
    """The paid period extended by closures and late answers (clause 6), explained."""
    delays: list[Extension] = []
    for request in sorted(requests, key=lambda r: r.received_at):
        days = delay_days(request, calendar)
        if days:
            what = f"ticket #{request.id}" if request.id is not None else "a request"
            delays.append(
                Extension(
                    cause=ExtensionCause.DELAY,
                    days=days,
                    why=f"{what} received {request.received_at:%Y-%m-%d %H:%M} answered "
                    f"{days} started day(s) late",
                    ticket_id=request.id,
                )
            )
    delay_total = sum(e.days for e in delays)
    end, closure_days = _extended_end(contract, calendar, delay_total)

    per_closure: dict[int, list[date]] = {}
    for day, index in closure_days.items():
        per_closure.setdefault(index, []).append(day)
    closure_extensions = []
    for index, closure_dates in sorted(per_closure.items()):
        closure = calendar.closures[index]
        note = f" ({closure.note})" if closure.note else ""
        closure_extensions.append(
            Extension(
                cause=ExtensionCause.CLOSURE,
                days=len(closure_dates),
                why=f"closure {closure.first}..{closure.last}{note}: {len(closure_dates)} day(s) "
                f"within the paid period",
                closure_id=closure.id,
            )
        )
    return EffectivePeriod(
        paid_from=contract.paid_from,
        paid_until=contract.paid_until,
        effective_until=end,
        extensions=tuple(closure_extensions + delays),
    )


def _extended_end(
    contract: Contract, calendar: Calendar, delay_total: int
) -> tuple[date, dict[date, int]]:
    """The effective end after `delay_total` days of delay and every closure day within the
    period so extended (the fixed point), with those closure days."""
    end = contract.paid_until + timedelta(days=delay_total)
    while True:
        counted = _closure_days_within(calendar, contract.paid_from, end)
        new_end = contract.paid_until + timedelta(days=delay_total + len(counted))
        if new_end == end:
            return end, counted
        end = new_end


@dataclass(frozen=True)
class CausedExtension:
    """What one late answer did to the paid period (clause 6): `days` of delay added, and
    the effective end just before and just after it (the answers before it counted, in the
    order they were given; closures as the calendar has them now)."""

    ticket_id: int | None
    days: int
    end_before: date
    end_after: date


def extensions_caused(
    contract: Contract, calendar: Calendar, requests: Iterable[Request]
) -> dict[int | None, CausedExtension]:
    """Each late answer of `contract`'s requests (by ticket id) with the extension it caused.

    Answers are taken in the order they were given; each one's end before is the effective
    end with the earlier late answers only. An extension may push the end into a closure,
    whose days then count too: `end_after - end_before` can exceed `days`."""
    answered = [
        (r.answered_at, r)
        for r in requests
        if r.contract == contract.number and r.answered_at is not None
    ]
    answered.sort(key=lambda pair: (pair[0], pair[1].id or 0))
    caused: dict[int | None, CausedExtension] = {}
    total = 0
    end, _ = _extended_end(contract, calendar, total)
    for _, request in answered:
        days = delay_days(request, calendar)
        if not days:
            continue
        total += days
        after, _ = _extended_end(contract, calendar, total)
        caused[request.id] = CausedExtension(request.id, days, end, after)
        end = after
    return caused


def _closure_days_within(calendar: Calendar, first: date, last: date) -> dict[date, int]:
    """Each closure day in [first, last], mapped to the index of the closure it belongs to."""
    found: dict[date, int] = {}
    for index, closure in enumerate(calendar.closures):
        day = max(closure.first, first)
        while day <= min(closure.last, last):
            found.setdefault(day, index)
            day += timedelta(days=1)
    return found


def phone_capable(contracts: Sequence[Contract]) -> list[Contract]:
    return [c for c in contracts if c.plan.covers_phone]
