"""The values of a call as the call log knows it: its state, the operators rung, the queue's
facts, the outcome; and the rules on them that the call tracker (domain/calls.py) and the
gap reconciliation (domain/reconcile.py) share: how a ring is finished, how the outcome is
fixed, and that a call's log entry only moves forward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class CallState(StrEnum):
    ARRIVED = "arrived"
    DECIDED = "decided"
    QUEUED = "queued"
    ANSWERED = "answered"
    ENDED = "ended"


_ORDER = {state: rank for rank, state in enumerate(CallState)}


def moves_forward(logged: CallState, new: CallState) -> bool:
    """May a call whose log entry is in state `logged` be written as `new`? Only forward:
    a final (ended) entry is never rewritten, and no entry goes back to an earlier state
    (older facts, e.g. a replayed Newchannel after a restart, never reopen a call)."""
    return logged is not CallState.ENDED and _ORDER[new] >= _ORDER[logged]


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    UNANSWERED = "unanswered"
    REJECTED = "rejected"
    FAILED = "failed"
    CALLBACK_REQUESTED = "callback_requested"  # pressed 1 in the queue to be called back


class RingResult(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Ring:
    """One operator rung for this call, and how long."""

    endpoint: str
    started: datetime
    seconds: float | None = None
    result: RingResult = RingResult.RINGING


@dataclass(frozen=True)
class QueueFacts:
    """What the queue said of the caller that is not a state of the call."""

    left: datetime | None = None  # when the caller left the queue, however
    abandoned: bool = False  # hung up while waiting in it
    status: str = ""  # the queue gave up on the caller: QUEUESTATUS (TIMEOUT, ...) or CALLBACK

    def leave(self, at: datetime) -> QueueFacts:
        return replace(self, left=self.left or at)

    def abandon(self, at: datetime) -> QueueFacts:
        return replace(self, abandoned=True, left=self.left or at)

    def give_up(self, status: str, at: datetime) -> QueueFacts:
        """The queue ended without an operator: no abandon, whatever app_queue said of it
        (it reports a timeout as QueueCallerAbandon too)."""
        code = "".join(c for c in status.upper() if c.isascii() and (c.isalpha() or c == "_"))
        return replace(self, abandoned=False, status=code[:20] or "ENDED", left=self.left or at)


@dataclass(frozen=True)
class Call:
    linkedid: str
    state: CallState
    arrived: datetime
    caller_raw: str = ""
    caller_name: str = ""
    dialled: str = ""
    route: str | None = None
    reason: str | None = None
    contract: str | None = None
    queued: datetime | None = None
    answered: datetime | None = None
    ended: datetime | None = None
    operator: str | None = None
    rings: tuple[Ring, ...] = ()
    queue: QueueFacts = QueueFacts()
    hangup_cause: str = ""
    outcome: Outcome | None = None

    @property
    def wait_seconds(self) -> float | None:
        if self.queued is None:
            return None
        until = self.answered or self.queue.left or self.ended
        return None if until is None else max((until - self.queued).total_seconds(), 0.0)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered is None or self.ended is None:
            return None
        return max((self.ended - self.answered).total_seconds(), 0.0)

    @property
    def missed(self) -> bool:
        """Not answered although it reached us: a covered caller gets a callback."""
        return self.outcome in (
            Outcome.ABANDONED,
            Outcome.UNANSWERED,
            Outcome.CALLBACK_REQUESTED,
        ) or (self.outcome is Outcome.REJECTED and self.route == "closed")


class PopKind(StrEnum):
    RINGING = "ringing"  # open the pop on this operator's screen
    ANSWERED = "answered"  # this operator took the call: keep it
    TAKEN = "taken"  # another operator took it: close
    MISSED = "missed"  # stopped ringing here: close
    ENDED = "ended"  # the call is over: close or mark ended


@dataclass(frozen=True)
class Pop:
    """A screen-pop message for one operator's endpoint."""

    kind: PopKind
    endpoint: str
    linkedid: str
    at: datetime


# --- the rings: one way to finish one, for the events and for the records of a gap ----------


def finish_ring(
    rings: tuple[Ring, ...],
    endpoint: str,
    at: datetime,
    result: RingResult,
    seconds: float | None = None,
    *,
    unseen: bool = False,
) -> tuple[Ring, ...]:
    """The rings with `endpoint`'s newest ring still ringing finished at `at` with `result`,
    after `seconds` (else the time since it started). With `unseen`, a ring no event showed
    (Asterisk's records of a gap name it) is added, started `seconds` before `at`."""
    for i in range(len(rings) - 1, -1, -1):
        ring = rings[i]
        if ring.endpoint == endpoint and ring.result is RingResult.RINGING:
            took = seconds if seconds is not None else (at - ring.started).total_seconds()
            done = replace(ring, result=result, seconds=max(took, 0.0))
            return (*rings[:i], done, *rings[i + 1 :])
    if not unseen:
        return rings
    took = max(seconds or 0.0, 0.0)
    started = at - timedelta(seconds=took)  # the ring began that long before
    return (*rings, Ring(endpoint, started, took, result))


def cancel_ringing(rings: tuple[Ring, ...], at: datetime) -> tuple[Ring, ...]:
    """The rings still ringing when the call ended, cancelled at `at`."""
    return tuple(
        replace(r, result=RingResult.CANCELLED, seconds=(at - r.started).total_seconds())
        if r.result is RingResult.RINGING
        else r
        for r in rings
    )


# The dialplan's CallcenterQueueEnd Status that names its own outcome.
QUEUE_END_OUTCOMES: Mapping[str, Outcome] = {"CALLBACK": Outcome.CALLBACK_REQUESTED}


def outcome_of(call: Call) -> Outcome:
    if call.answered is not None:
        return Outcome.ANSWERED
    if call.queue.status:  # the queue gave up on the caller: no abandon
        return QUEUE_END_OUTCOMES.get(call.queue.status, Outcome.UNANSWERED)
    if call.queue.abandoned:
        return Outcome.ABANDONED
    if call.queued is not None:
        return Outcome.UNANSWERED
    if call.route == "queue":
        return Outcome.ABANDONED  # hung up while being put through, before the queue
    if call.route is not None:
        return Outcome.REJECTED
    return Outcome.FAILED
