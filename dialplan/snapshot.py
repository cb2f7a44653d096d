"""The routing inputs in memory, kept current by following the store's routing changes.

A decision from memory needs no database round trip: the routing service answers in well
under a millisecond of its own work. Every write that can change a decision (an import, a
closure, a ticket, a consolidation) also writes a `routing_changes` row in the same
transaction; the service reads the rows after its cursor a few times a second and reloads
what they name (one contract's data, or everything). If that reading fails for longer than
the allowed staleness, the service stops trusting the copy and asks the store per call
(with its deadline and fail-open), so a store that is down or locked is noticed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Contract, EffectivePeriod, Request, effective_period
from callcenter.domain.phone import CallerKind, CallerNumber, normalise
from callcenter.domain.routing import Decision, decide_for
from callcenter.store import repositories as repo

PERIODS = 4096  # effective periods kept (the callers of the last while, in practice)


@dataclass(frozen=True)
class RoutingSnapshot:
    cursor: int
    contracts: Mapping[str, Contract]
    by_phone: Mapping[str, tuple[str, ...]]
    requests: Mapping[str, tuple[Request, ...]]
    grants: Mapping[str, tuple[Consolidation, ...]]
    calendar: Calendar
    # Read whole (load), not patched from another snapshot (refresh of named contracts).
    whole: bool = field(default=False, compare=False)
    # Each contract's effective period, computed on first use: it depends only on what this
    # snapshot holds (the contract, its requests, the calendar). Not an __init__ field, so
    # `replace()` (a patched snapshot) starts with an empty memo. Bounded (PERIODS): full,
    # it starts again, so it never grows to every contract's period, objects the garbage
    # collector would walk in each full pass.
    _periods: dict[str, EffectivePeriod] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def decide(
        self, caller_id: str, now: datetime, region: str, presented: bool = True
    ) -> Decision:
        """The same decision as services.route_call, from memory."""
        if presented and caller_id in self.by_phone:
            # Presented in E.164 exactly as a contract names it: a number validated when
            # the contract was imported, so parsing it again would give the same.
            caller = CallerNumber(raw=caller_id, kind=CallerKind.NUMBER, e164=caller_id)
        else:
            caller = normalise(caller_id, region, presented=presented)
        numbers = self.by_phone.get(caller.e164, ()) if caller.e164 else ()
        contracts = [self.contracts[n] for n in numbers]
        requests = [r for n in numbers for r in self.requests.get(n, ())]
        grants = [g for n in numbers for g in self.grants.get(n, ())]
        return decide_for(
            caller, now, self.calendar, contracts, requests, grants, period_of=self._period
        )

    def _period(self, contract: Contract, requests: Sequence[Request]) -> EffectivePeriod:
        found = self._periods.get(contract.number)
        if found is None:
            found = effective_period(contract, self.calendar, requests)
            if len(self._periods) >= PERIODS:
                self._periods.clear()
            self._periods[contract.number] = found
        return found


T = TypeVar("T", Request, Consolidation)


def _group(items: Iterable[T]) -> dict[str, tuple[T, ...]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for item in items:
        grouped[item.contract].append(item)
    return {number: tuple(group) for number, group in grouped.items()}


def _by_phone(contracts: Iterable[Contract]) -> dict[str, tuple[str, ...]]:
    phones: dict[str, list[str]] = defaultdict(list)
    for contract in contracts:
        for e164 in contract.phones:
            phones[e164].append(contract.number)
    return {e164: tuple(sorted(numbers)) for e164, numbers in phones.items()}


def load(session: Session) -> RoutingSnapshot:
    """Everything, as of the newest routing change."""
    cursor = repo.last_change(session)
    contracts = {c.number: c for c in repo.contracts(session)}
    return RoutingSnapshot(
        cursor=cursor,
        contracts=contracts,
        by_phone=_by_phone(contracts.values()),
        requests=_group(repo.requests(session, None)),
        grants=_group(repo.consolidations(session, None)),
        calendar=Calendar(closures=repo.closures(session)),
        whole=True,
    )


def refresh(snapshot: RoutingSnapshot, session: Session) -> RoutingSnapshot:
    """The snapshot with the changes since its cursor applied (itself when there are none)."""
    changes = repo.changes_since(session, snapshot.cursor)
    if not changes:
        return snapshot
    if any(contract is None for _, contract in changes):
        return load(session)
    cursor = changes[-1][0]
    numbers = sorted({contract for _, contract in changes if contract is not None})
    return _patched(snapshot, session, numbers, cursor)


def _patched(
    snapshot: RoutingSnapshot, session: Session, numbers: Sequence[str], cursor: int
) -> RoutingSnapshot:
    """Reload the named contracts (a contract may have been removed or renumbered away)."""
    fresh = {c.number: c for c in repo.contracts(session, numbers)}
    contracts = {n: c for n, c in snapshot.contracts.items() if n not in numbers}
    contracts.update(fresh)
    phones = {p for n in numbers if n in snapshot.contracts for p in snapshot.contracts[n].phones}
    phones |= {p for c in fresh.values() for p in c.phones}
    by_phone = dict(snapshot.by_phone)
    for phone in phones:
        candidates = set(snapshot.by_phone.get(phone, ())) | set(fresh)
        owners = tuple(sorted(n for n in candidates if n in contracts
                              and phone in contracts[n].phones))  # fmt: skip
        if owners:
            by_phone[phone] = owners
        else:
            by_phone.pop(phone, None)
    new_requests = _group(repo.requests(session, numbers))
    new_grants = _group(repo.consolidations(session, numbers))
    requests = {**snapshot.requests, **{n: new_requests.get(n, ()) for n in numbers}}
    grants = {**snapshot.grants, **{n: new_grants.get(n, ()) for n in numbers}}
    return replace(
        snapshot, cursor=cursor, contracts=contracts, by_phone=by_phone, requests=requests,
        grants=grants, whole=False,
    )  # fmt: skip
