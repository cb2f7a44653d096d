"""Use cases shared by every door (CLI, FastAGI, API): gather inputs, call the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from callcenter.domain.allowance import Allowance
from callcenter.domain.calendar import Calendar, warsaw
from callcenter.domain.contracts import Contract, EffectivePeriod
from callcenter.domain.phone import normalise
from callcenter.domain.routing import Candidate, Decision, assess, decide
from callcenter.store import repositories as repo


def calendar(session: Session) -> Calendar:
    return Calendar(closures=repo.closures(session))


def candidates_for(
    session: Session, contracts: list[Contract], now: datetime, cal: Calendar
) -> list[Candidate]:
    numbers = [c.number for c in contracts]
    requests = repo.requests(session, numbers) if numbers else []
    grants = repo.consolidations(session, numbers) if numbers else []
    return [assess(c, now, cal, requests, grants) for c in contracts]


def route_call(
    session: Session, caller_id: str | None, now: datetime, region: str, presented: bool = True
) -> Decision:
    """The routing decision for a caller ID at `now`: the one function every door calls."""
    caller = normalise(caller_id, region, presented=presented)
    contracts = repo.contracts_for_phone(session, caller.e164) if caller.e164 else []
    cal = calendar(session)
    return decide(caller, now, cal, candidates_for(session, contracts, now, cal))


@dataclass(frozen=True)
class ContractReport:
    contract: Contract
    period: EffectivePeriod
    allowance: Allowance
    active: bool
    resumes_at: datetime


def contract_report(session: Session, number: str, now: datetime) -> ContractReport:
    cal = calendar(session)
    contract = repo.contract(session, number)
    [candidate] = candidates_for(session, [contract], now, cal)
    return ContractReport(
        contract=contract,
        period=candidate.period,
        allowance=candidate.allowance,
        active=candidate.period.standing_on(warsaw(now).date()) is None,
        resumes_at=candidate.resumes_at,
    )
