"""The routing decision: where a call goes now, and why (DESIGN.md, routing contract).

Theory of operation: the shell gathers the inputs (the caller ID, the time, the calendar and,
for every contract naming the caller's number, its effective period and today's allowance) and
calls `decide`. The precedence table is a list of named rules tried in order; each is a small
pure function that either decides or passes (returns None). The first decision wins; `queue`
always decides, so there is always one.

Caller identification runs before the rules, so even a `closed` decision names the contract
that would have covered the call: a covered customer's missed call becomes a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from callcenter.domain.allowance import Allowance, Consolidation, allowance_on, resumes_at
from callcenter.domain.calendar import Calendar, warsaw
from callcenter.domain.contracts import Contract, EffectivePeriod, Request, effective_period
from callcenter.domain.phone import CallerKind, CallerNumber
from callcenter.domain.terms import Reason, Route


@dataclass(frozen=True)
class Candidate:
    """A contract naming the caller's number, with what the rules need to know of it today."""

    contract: Contract
    period: EffectivePeriod
    allowance: Allowance
    resumes_at: datetime

    @property
    def number(self) -> str:
        return self.contract.number

    @property
    def phone_capable(self) -> bool:
        return self.contract.plan.covers_phone

    def standing(self, now: datetime) -> Reason | None:
        return self.period.standing_on(warsaw(now).date())

    def active(self, now: datetime) -> bool:
        return self.phone_capable and self.standing(now) is None

    def usable(self, now: datetime) -> bool:
        return self.active(now) and not self.allowance.exhausted


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: Reason
    caller: CallerNumber
    contract: str | None = None
    contracts: tuple[str, ...] = ()
    next_open: datetime | None = None
    covered: bool = False
    rule: str = ""
    why: str = ""
    candidates: tuple[Candidate, ...] = field(default=(), compare=False, repr=False)

    @property
    def number(self) -> str | None:
        return self.caller.e164


@dataclass(frozen=True)
class Situation:
    caller: CallerNumber
    now: datetime
    calendar: Calendar
    candidates: tuple[Candidate, ...]

    @property
    def phone(self) -> list[Candidate]:
        return [c for c in self.candidates if c.phone_capable]

    @property
    def active(self) -> list[Candidate]:
        return [c for c in self.candidates if c.active(self.now)]

    @property
    def usable(self) -> list[Candidate]:
        return [c for c in self.candidates if c.usable(self.now)]


Rule = Callable[[Situation], Decision | None]


def _numbers(candidates: Sequence[Candidate]) -> tuple[str, ...]:
    return tuple(c.number for c in candidates)


def _sole(candidates: Sequence[Candidate]) -> str | None:
    return candidates[0].number if len(candidates) == 1 else None


def _decision(
    s: Situation,
    route: Route,
    reason: Reason,
    why: str,
    *,
    contract: str | None = None,
    contracts: tuple[str, ...] | None = None,
    next_open: datetime | None = None,
) -> Decision:
    return Decision(
        route=route,
        reason=reason,
        caller=s.caller,
        contract=contract,
        contracts=_numbers(s.candidates) if contracts is None else contracts,
        next_open=next_open,
        covered=bool(s.active),
        why=why,
        candidates=s.candidates,
    )


def anonymous(s: Situation) -> Decision | None:
    """1. No usable caller number: withheld, or not a number."""
    if s.caller.kind is CallerKind.WITHHELD:
        return _decision(s, Route.ANONYMOUS, Reason.WITHHELD, "the caller's number is withheld")
    if s.caller.kind is CallerKind.INVALID:
        why = f"caller ID {s.caller.raw!r} is not a usable phone number"
        return _decision(s, Route.ANONYMOUS, Reason.INVALID, why)
    return None


def closed(s: Situation) -> Decision | None:
    """2. Not working time now (clause 3)."""
    reason = s.calendar.closed_reason(s.now)
    if reason is None:
        return None
    local = warsaw(s.now)
    detail = {
        Reason.WEEKEND: f"{local:%A} is not a working day",
        Reason.HOLIDAY: f"{local.date()} is a public holiday ({s.calendar.holiday(local.date())})",
        Reason.CLOSURE: f"{local.date()} falls in an announced closure",
        Reason.OUTSIDE_HOURS: f"{local:%H:%M} is outside working hours 08:00-16:00",
    }[reason]
    opens = s.calendar.next_open(s.now)
    return _decision(
        s,
        Route.CLOSED,
        reason,
        f"{detail}; support opens again {opens.isoformat()}",
        contract=_sole(s.active),
        next_open=opens,
    )


def no_contract(s: Situation) -> Decision | None:
    """3. The number matches no contract (clause 2: free use carries no support)."""
    if s.candidates:
        return None
    return _decision(
        s, Route.NO_CONTRACT, Reason.UNKNOWN_NUMBER, f"{s.caller.e164} is named in no contract"
    )


def email_only(s: Situation) -> Decision | None:
    """4. Every matching contract is an e-mail plan: write in instead."""
    if s.phone:
        return None
    why = f"contract(s) {', '.join(_numbers(s.candidates))} cover e-mail only"
    return _decision(s, Route.EMAIL_ONLY, Reason.EMAIL_PLAN, why, contract=_sole(s.candidates))


def expired(s: Situation) -> Decision | None:
    """5. No phone-capable contract is within its effective paid period (clauses 3, 6)."""
    if s.active:
        return None
    standings = [c.standing(s.now) for c in s.phone]
    reason = (
        Reason.NOT_STARTED if all(r is Reason.NOT_STARTED for r in standings) else Reason.EXPIRED
    )
    parts = [f"{c.number} paid {c.period.paid_from}..{c.period.effective_until}" for c in s.phone]
    why = f"no phone contract is paid for today: {'; '.join(parts)}"
    return _decision(s, Route.EXPIRED, reason, why, contract=_sole(s.phone))


def limit_reached(s: Situation) -> Decision | None:
    """6. Today's allowance of every active phone-capable contract is used (clause 7)."""
    if s.usable:
        return None
    first = s.active[0]
    reason = first.allowance.reason or Reason.ANSWERS_USED
    resumes = min(c.resumes_at for c in s.active)
    parts = [_allowance_used(c.number, c.allowance) for c in s.active]
    why = f"today's allowance is used: {'; '.join(parts)}; service resumes {resumes.isoformat()}"
    return _decision(
        s,
        Route.LIMIT_REACHED,
        reason,
        why,
        contract=_sole(s.active),
        next_open=resumes,
    )


def _allowance_used(number: str, allowance: Allowance) -> str:
    """What happened to one contract's allowance today, in the terms' words (clause 7)."""
    if allowance.consolidated_onto is not None:
        return (
            f"{number}'s allowance for today was consolidated into "
            f"{allowance.consolidated_onto.isoformat()}"
        )
    used = f"{number} used {allowance.used} of {allowance.budget} unit(s)"
    return f"{used}, an action among them" if allowance.action_used else used


def queue(s: Situation) -> Decision:
    """7. Otherwise: put the caller through; several usable contracts make the operator pick."""
    usable = s.usable
    if len(usable) > 1:
        why = f"several contracts cover this number: {', '.join(_numbers(usable))}"
        return _decision(
            s, Route.QUEUE, Reason.AMBIGUOUS, why, contracts=_numbers(usable), contract=None
        )
    c = usable[0]
    why = (
        f"contract {c.number} ({c.contract.plan}) is paid until {c.period.effective_until} "
        f"and has {c.allowance.left} unit(s) left today"
    )
    return _decision(s, Route.QUEUE, Reason.COVERED, why, contract=c.number, contracts=(c.number,))


RULES: tuple[Rule, ...] = (anonymous, closed, no_contract, email_only, expired, limit_reached)


def decide(
    caller: CallerNumber, now: datetime, calendar: Calendar, candidates: Sequence[Candidate]
) -> Decision:
    """Apply the precedence table; the first rule that decides wins."""
    situation = Situation(
        caller=caller,
        now=warsaw(now),
        calendar=calendar,
        candidates=tuple(sorted(candidates, key=lambda c: c.number)),
    )
    for rule in RULES:
        decision = rule(situation)
        if decision is not None:
            return _with_rule(decision, rule.__name__)
    return _with_rule(queue(situation), queue.__name__)


def _with_rule(decision: Decision, name: str) -> Decision:
    return replace(decision, rule=name)


def fail_open(caller: CallerNumber, now: datetime, calendar: Calendar) -> Decision:
    """The answer when the rules cannot be consulted in time (the store is slow or down):
    let the caller through. Working time is judged by the calendar given (the routing
    service passes the bare public-holiday calendar: the closures are in the store it
    cannot reach); outside it the caller hears `closed` with the next opening. The call is
    identified later, from the log (the follow-up rule)."""
    why = "the routing decision did not come in time"
    if calendar.is_working_time(now):
        return Decision(Route.QUEUE, Reason.FAIL_OPEN, caller, rule="fail_open", why=why)
    return Decision(
        Route.CLOSED,
        Reason.FAIL_OPEN,
        caller,
        next_open=calendar.next_open(now),
        rule="fail_open",
        why=why,
    )


PeriodOf = Callable[[Contract, Sequence[Request]], EffectivePeriod]


def decide_for(
    caller: CallerNumber,
    now: datetime,
    calendar: Calendar,
    contracts: Sequence[Contract],
    requests: Sequence[Request] = (),
    consolidations: Sequence[Consolidation] = (),
    period_of: PeriodOf | None = None,
) -> Decision:
    """The decision from the raw inputs: the contracts naming the caller's number and their
    requests and consolidations (every door gathers these, from the store or from memory).
    `period_of` may stand in for `effective_period` with the same answers (a memo)."""
    return decide(
        caller,
        now,
        calendar,
        [assess(c, now, calendar, requests, consolidations, period_of) for c in contracts],
    )


def assess(
    contract: Contract,
    now: datetime,
    calendar: Calendar,
    requests: Sequence[Request] = (),
    consolidations: Sequence[Consolidation] = (),
    period_of: PeriodOf | None = None,
) -> Candidate:
    """Everything the rules need to know of one contract at `now`."""
    today = warsaw(now).date()
    own = [r for r in requests if r.contract == contract.number]
    return Candidate(
        contract=contract,
        period=(
            period_of(contract, own)
            if period_of is not None
            else effective_period(contract, calendar, own)
        ),
        allowance=allowance_on(contract, today, calendar, own, consolidations),
        resumes_at=resumes_at(contract, today, calendar, consolidations),
    )
