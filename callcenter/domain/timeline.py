"""A call's timeline: every step of one call, each with its time, from the call log's facts.

Theory of operation: the call log keeps a call as a row of moments (arrived, decided, queued,
answered, ended), the operators rung (each with its start, length and result), the queue's
facts (when the caller left it and how), and what followed (the ticket taken on it, the
callback it made and that callback's attempts). `timeline` turns those facts into the steps a
manager reads, oldest first; steps at the same moment keep the order a call goes through
(arrival before decision before queue, a ring before the answer it led to). Nothing here
reads the store or the clock: the facts come in, the steps go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class StepKind(StrEnum):
    ARRIVED = "arrived"
    DECIDED = "decided"  # the routing decision: route, reason, rule and why
    QUEUED = "queued"
    RUNG = "rung"  # an operator's phone rang: for how long, and how it ended
    ANSWERED = "answered"  # by whom
    ABANDONED = "abandoned"  # the caller hung up while waiting in the queue
    TIMEOUT = "timeout"  # the queue gave up: no operator in time
    CALLBACK_REQUESTED = "callback_requested"  # pressed 1 in the queue to be called back
    LEFT_QUEUE = "left_queue"  # the queue ended otherwise (its status in `result`)
    ENDED = "ended"  # the outcome in `result`
    TICKET = "ticket"  # the ticket taken on the call (`ref` its id, `result` its status)
    CALLBACK = "callback"  # the callback the call made (`ref` its id), due at `due`
    CALLBACK_ATTEMPT = "callback_attempt"  # one attempt to return that callback


_RANK = {kind: rank for rank, kind in enumerate(StepKind)}


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: StepKind
    operator: str | None = None
    seconds: float | None = None
    result: str | None = None
    route: str | None = None
    reason: str | None = None
    rule: str | None = None
    why: str | None = None
    ref: int | None = None  # the ticket's or the callback's id
    due: datetime | None = None


@dataclass(frozen=True)
class RingFact:
    operator: str
    started: datetime
    seconds: float | None
    result: str


@dataclass(frozen=True)
class AttemptFact:
    operator: str
    started: datetime
    ended: datetime | None
    result: str | None  # None: under way


@dataclass(frozen=True)
class CallbackFact:
    id: int
    created: datetime
    due: datetime
    attempts: tuple[AttemptFact, ...] = ()


@dataclass(frozen=True)
class TicketFact:
    id: int
    created: datetime
    status: str
    kind: str


@dataclass(frozen=True)
class CallFacts:
    """One call as the log holds it (naive datetimes are a bug: aware ones only)."""

    arrived: datetime
    direction: str = "inbound"
    decided: datetime | None = None
    route: str | None = None
    reason: str | None = None
    rule: str = ""
    why: str = ""
    queued: datetime | None = None
    answered: datetime | None = None
    ended: datetime | None = None
    operator: str | None = None
    outcome: str | None = None
    rings: tuple[RingFact, ...] = ()
    queue_left: datetime | None = None
    queue_abandoned: bool = False
    queue_status: str = ""
    ticket: TicketFact | None = None
    callback: CallbackFact | None = None


def timeline(call: CallFacts) -> list[Step]:
    """Every step of the call, oldest first."""
    steps = [Step(call.arrived, StepKind.ARRIVED)]
    if call.route is not None:
        steps.append(
            Step(
                call.decided or call.arrived,
                StepKind.DECIDED,
                route=call.route,
                reason=call.reason,
                rule=call.rule or None,
                why=call.why or None,
            )
        )
    if call.queued is not None:
        steps.append(Step(call.queued, StepKind.QUEUED))
    steps += [
        Step(r.started, StepKind.RUNG, operator=r.operator, seconds=r.seconds, result=r.result)
        for r in call.rings
    ]
    if call.answered is not None:
        steps.append(Step(call.answered, StepKind.ANSWERED, operator=call.operator))
    elif left := _left_queue(call):
        steps.append(left)
    if call.ended is not None:
        steps.append(Step(call.ended, StepKind.ENDED, result=call.outcome))
    if call.ticket is not None:
        t = call.ticket
        steps.append(Step(t.created, StepKind.TICKET, result=t.status, reason=t.kind, ref=t.id))
    if call.callback is not None:
        steps += _callback_steps(call.callback)
    return sorted(steps, key=lambda s: (s.at, _RANK[s.kind]))


def _left_queue(call: CallFacts) -> Step | None:
    """How an unanswered call left the queue, if it was queued; when it left (the queue's
    own moment, else the call's end) and how long it had waited."""
    if call.queued is None:
        return None
    at = call.queue_left or call.ended
    if at is None:
        return None  # still waiting
    waited = max((at - call.queued).total_seconds(), 0.0)
    status = call.queue_status.upper()
    if call.queue_abandoned or call.outcome == "abandoned":
        kind = StepKind.ABANDONED
    elif status == "CALLBACK" or call.outcome == "callback_requested":
        kind = StepKind.CALLBACK_REQUESTED
    elif status == "TIMEOUT" or call.outcome == "unanswered":
        kind = StepKind.TIMEOUT
    else:
        kind = StepKind.LEFT_QUEUE
    result = (status or None) if kind is StepKind.LEFT_QUEUE else None
    return Step(at, kind, seconds=waited, result=result)


def _callback_steps(callback: CallbackFact) -> list[Step]:
    steps = [Step(callback.created, StepKind.CALLBACK, ref=callback.id, due=callback.due)]
    for a in callback.attempts:
        seconds = None if a.ended is None else max((a.ended - a.started).total_seconds(), 0.0)
        steps.append(
            Step(
                a.started,
                StepKind.CALLBACK_ATTEMPT,
                operator=a.operator,
                seconds=seconds,
                result=a.result,
                ref=callback.id,
            )
        )
    return steps
