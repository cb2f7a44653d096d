"""The call lifecycle: Asterisk's AMI events in, one call's log entry out.

Theory of operation: a call is everything Asterisk links under one `Linkedid`: the caller's
channel (whose `Uniqueid` is the Linkedid) and the operators' channels the queue rings. The
tracker keeps one `Call` value per Linkedid and moves it through a small state machine:

    arrived --UserEvent CallcenterDecision--> decided --QueueCallerJoin--> queued
    queued --AgentConnect--> answered
    answered --DialBegin/DialEnd of a colleague (blind transfer)--> answered (by the colleague)
    any of these --Hangup of the caller's channel--> ended

The transitions are a table keyed by (state, event name). An event with no entry for the
current state changes nothing, which makes applying a stream idempotent: a replayed or
duplicated event finds the call already past it. Times come from the events' own `Timestamp`
(manager.conf `timestampevents=yes`), never from a clock, so replaying a recording gives the
same log. Each transition may also return effects: the screen-pop messages for one operator.

An operator may pass the caller on to a colleague (a blind transfer: features.conf's # and
the colleague's digit). Asterisk sends the caller's channel (out of the queue) to the
transfer context, which dials the colleague under the same Linkedid (a Local channel does
when the caller is in a plain bridge): the call stays one entry. When the colleague's phone
rings, the first operator's pop ends and the colleague's opens (a ring, a ringing pop with
the contract); answering, the colleague becomes the call's operator. Both rings stay
`answered`; the talk time runs from the first answer.

When the caller's channel hangs up, the outcome is fixed: `answered` (an operator connected),
`abandoned` (hung up while waiting in the queue), `unanswered` (left the queue without an
operator, e.g. its timeout), `rejected` (a route other than `queue` played its message), or
`failed` (no decision was ever published). A caller sent to the queue who hangs up before
reaching it (during the "putting you through" prompt) has abandoned too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum


class CallState(StrEnum):
    ARRIVED = "arrived"
    DECIDED = "decided"
    QUEUED = "queued"
    ANSWERED = "answered"
    ENDED = "ended"


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
    abandoned: bool = False
    left_queue: datetime | None = None
    queue_status: str = ""  # QUEUESTATUS when the queue gave up (TIMEOUT, ...)
    hangup_cause: str = ""
    outcome: Outcome | None = None

    @property
    def wait_seconds(self) -> float | None:
        if self.queued is None:
            return None
        until = self.answered or self.left_queue or self.ended
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


Event = Mapping[str, str]
Effects = tuple[Pop, ...]
Transition = Callable[[Call, Event, datetime], tuple[Call, Effects]]


# --- reading events ------------------------------------------------------------------------


def event_time(event: Event, fallback: datetime) -> datetime:
    """The event's own `Timestamp` (epoch seconds), else `fallback` (the receive time)."""
    stamp = event.get("Timestamp", "")
    try:
        return datetime.fromtimestamp(float(stamp), tz=UTC)
    except ValueError:
        return fallback


def endpoint_of(channel_or_interface: str) -> str:
    """`PJSIP/op1-0000000a` or `PJSIP/op1` -> `op1`."""
    name = channel_or_interface.split("/", 1)[-1]
    head, sep, tail = name.rpartition("-")
    if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return head
    return name


def linkedid_of(event: Event) -> str | None:
    return event.get("Linkedid") or event.get("LinkedID") or None


def _interface(event: Event) -> str:
    return endpoint_of(event.get("Interface") or event.get("DestChannel") or "")


def _null(value: str) -> str | None:
    return value or None


# --- transitions ------------------------------------------------------------------------------


def _user_event(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """Our dialplan's own events: the decision, and the queue giving up on the caller."""
    name = event.get("UserEvent")
    if name == "CallcenterDecision":
        return _decided(call, event, at)
    if name == "CallcenterQueueEnd" and call.answered is None:
        # app_queue reports a queue timeout as QueueCallerAbandon too: this is no abandon.
        status = event.get("Status", "") or "ended"
        return replace(
            call, abandoned=False, queue_status=status, left_queue=call.left_queue or at
        ), ()
    return call, ()


def _decided(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    state = CallState.DECIDED if call.state is CallState.ARRIVED else call.state
    return replace(
        call,
        state=state,
        route=_null(event.get("Route", "")),
        reason=_null(event.get("Reason", "")),
        contract=_null(event.get("Contract", "")) or call.contract,
        dialled=event.get("Dialled", "") or call.dialled,
    ), ()


def _queued(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, state=CallState.QUEUED, queued=call.queued or at), ()


def _ringing(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = _interface(event)
    if any(r.endpoint == endpoint and r.started == at for r in call.rings):
        return call, ()  # the same event again
    ring = Ring(endpoint=endpoint, started=at)
    return replace(call, rings=(*call.rings, ring)), (
        Pop(PopKind.RINGING, endpoint, call.linkedid, at),
    )


def _update_ring(
    call: Call, endpoint: str, at: datetime, result: RingResult, seconds: float | None = None
) -> Call:
    """Finish the newest still-ringing ring of `endpoint`."""
    rings = list(call.rings)
    for i in range(len(rings) - 1, -1, -1):
        ring = rings[i]
        if ring.endpoint == endpoint and ring.result is RingResult.RINGING:
            took = seconds if seconds is not None else (at - ring.started).total_seconds()
            rings[i] = replace(ring, result=result, seconds=max(took, 0.0))
            break
    return replace(call, rings=tuple(rings))


def _ring_no_answer(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = _interface(event)
    try:
        seconds: float | None = int(event.get("RingTime", "")) / 1000  # milliseconds here
    except ValueError:
        seconds = None
    call = _update_ring(call, endpoint, at, RingResult.NO_ANSWER, seconds)
    return call, (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


_DIAL_RESULT = {
    "BUSY": RingResult.BUSY,
    "NOANSWER": RingResult.NO_ANSWER,
    "CANCEL": RingResult.CANCELLED,
    "CHANUNAVAIL": RingResult.UNAVAILABLE,
    "CONGESTION": RingResult.UNAVAILABLE,
}


def _dial_end(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    result = _DIAL_RESULT.get(event.get("DialStatus", ""))
    if result is None:  # ANSWER is handled by AgentConnect
        return call, ()
    endpoint = _interface(event)
    before = call
    call = _update_ring(call, endpoint, at, result)
    if call == before:
        return call, ()
    return call, (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


def _connected(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = _interface(event)
    call = _update_ring(call, endpoint, at, RingResult.ANSWERED)
    call = replace(call, state=CallState.ANSWERED, answered=at, operator=endpoint)
    pops = [Pop(PopKind.ANSWERED, endpoint, call.linkedid, at)]
    for ring in call.rings:
        if ring.result is RingResult.RINGING:
            call = _update_ring(call, ring.endpoint, at, RingResult.CANCELLED)
            pops.append(Pop(PopKind.TAKEN, ring.endpoint, call.linkedid, at))
    return call, tuple(pops)


def _abandoned(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, abandoned=True, left_queue=at), _close_rings(call, at, PopKind.MISSED)


def _left_queue(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, left_queue=call.left_queue or at), ()


def _close_rings(call: Call, at: datetime, kind: PopKind) -> Effects:
    return tuple(
        Pop(kind, r.endpoint, call.linkedid, at)
        for r in call.rings
        if r.result is RingResult.RINGING
    )


_USER_BUSY = "17"  # Q.850 cause: app_queue reports a busy member as NOANSWER, RingTime 0


def _hangup(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    if event.get("Uniqueid") != call.linkedid:
        # An operator's leg: the call goes on until the caller's ends. Its cause tells a
        # busy operator from one who did not answer.
        if event.get("Cause") == _USER_BUSY:
            return _mark_busy(call, endpoint_of(event.get("Channel", ""))), ()
        return call, ()
    pops = list(_close_rings(call, at, PopKind.MISSED))
    rings = cancel_ringing(call.rings, at)
    if call.operator:
        pops.append(Pop(PopKind.ENDED, call.operator, call.linkedid, at))
    ended = replace(
        call,
        state=CallState.ENDED,
        ended=at,
        rings=rings,
        hangup_cause=event.get("Cause-txt", "") or event.get("Cause", ""),
    )
    return replace(ended, outcome=outcome_of(ended)), tuple(pops)


def cancel_ringing(rings: tuple[Ring, ...], at: datetime) -> tuple[Ring, ...]:
    """The rings still ringing when the call ended, cancelled at `at`."""
    return tuple(
        replace(r, result=RingResult.CANCELLED, seconds=(at - r.started).total_seconds())
        if r.result is RingResult.RINGING
        else r
        for r in rings
    )


def _mark_busy(call: Call, endpoint: str) -> Call:
    rings = list(call.rings)
    for i in range(len(rings) - 1, -1, -1):
        if rings[i].endpoint == endpoint:
            if rings[i].result in (RingResult.RINGING, RingResult.NO_ANSWER):
                rings[i] = replace(rings[i], result=RingResult.BUSY, seconds=0.0)
            break
    return replace(call, rings=tuple(rings))


# The dialplan's CallcenterQueueEnd Status that names its own outcome.
QUEUE_END_OUTCOMES: Mapping[str, Outcome] = {"CALLBACK": Outcome.CALLBACK_REQUESTED}


def outcome_of(call: Call) -> Outcome:
    if call.answered is not None:
        return Outcome.ANSWERED
    if call.queue_status in QUEUE_END_OUTCOMES:
        return QUEUE_END_OUTCOMES[call.queue_status]
    if call.abandoned:
        return Outcome.ABANDONED
    if call.queued is not None:
        return Outcome.UNANSWERED
    if call.route == "queue":
        return Outcome.ABANDONED  # hung up while being put through, before the queue
    if call.route is not None:
        return Outcome.REJECTED
    return Outcome.FAILED


# --- a blind transfer to a colleague ------------------------------------------------------------


def _is_colleague_dial(event: Event) -> bool:
    """A dial of an operator's phone after the call was answered: the transfer's (the
    caller's own channel, sent to [cc-transfer], or a Local channel), never the trunk."""
    dest = event.get("DestChannel", "")
    by_caller = event.get("Uniqueid") == linkedid_of(event)
    return (
        (by_caller or event.get("Channel", "").startswith("Local/"))
        and dest.startswith("PJSIP/")
        and endpoint_of(dest) != "trunk"
    )


def _colleague_rung(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """The colleague's phone rings: the operator who passed the caller on has let go (their
    pop ends); the colleague gets a ring and a ringing pop (the listener adds the
    contract)."""
    if not _is_colleague_dial(event):
        return call, ()
    endpoint = endpoint_of(event.get("DestChannel", ""))
    if any(r.endpoint == endpoint and r.started == at for r in call.rings):
        return call, ()  # the same event again
    ring = Ring(endpoint=endpoint, started=at)
    let_go = (Pop(PopKind.ENDED, call.operator, call.linkedid, at),) if call.operator else ()
    return replace(call, rings=(*call.rings, ring)), (
        *let_go,
        Pop(PopKind.RINGING, endpoint, call.linkedid, at),
    )


def _colleague_dial_end(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """The colleague answered (now the call's operator) or did not (their pop closes)."""
    if not _is_colleague_dial(event):
        return call, ()
    endpoint = endpoint_of(event.get("DestChannel", ""))
    status = event.get("DialStatus", "")
    result = RingResult.ANSWERED if status == "ANSWER" else _DIAL_RESULT.get(status)
    if result is None:
        return call, ()
    updated = _update_ring(call, endpoint, at, result)
    if updated == call:
        return call, ()  # no ring of theirs was ringing: a duplicate
    if result is RingResult.ANSWERED:
        return replace(updated, operator=endpoint), (
            Pop(PopKind.ANSWERED, endpoint, call.linkedid, at),
        )
    return updated, (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


_LIVE = (CallState.ARRIVED, CallState.DECIDED, CallState.QUEUED, CallState.ANSWERED)
_WAITING = (CallState.ARRIVED, CallState.DECIDED, CallState.QUEUED)

TRANSITIONS: dict[tuple[CallState, str], Transition] = {
    **{(s, "UserEvent"): _user_event for s in _LIVE},
    **{(s, "QueueCallerJoin"): _queued for s in (CallState.ARRIVED, CallState.DECIDED)},
    **{(s, "AgentCalled"): _ringing for s in _WAITING},
    **{(s, "AgentRingNoAnswer"): _ring_no_answer for s in _WAITING},
    **{(s, "DialEnd"): _dial_end for s in _WAITING},
    **{(s, "AgentConnect"): _connected for s in _WAITING},
    **{(s, "QueueCallerAbandon"): _abandoned for s in _WAITING},
    **{(s, "QueueCallerLeave"): _left_queue for s in _WAITING},
    **{(s, "Hangup"): _hangup for s in _LIVE},
    # A blind transfer to a colleague: the call stays answered, its operator changes.
    (CallState.ANSWERED, "DialBegin"): _colleague_rung,
    (CallState.ANSWERED, "DialEnd"): _colleague_dial_end,
}


def arrive(event: Event, at: datetime) -> Call | None:
    """A new call from the caller channel's `Newchannel` (Uniqueid == Linkedid), else None."""
    linkedid = linkedid_of(event)
    if event.get("Event") != "Newchannel" or not linkedid or event.get("Uniqueid") != linkedid:
        return None
    return Call(
        linkedid=linkedid,
        state=CallState.ARRIVED,
        arrived=at,
        caller_raw=event.get("CallerIDNum", ""),
        caller_name=event.get("CallerIDName", ""),
        dialled=event.get("Exten", ""),
    )


def apply(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """One event applied to one call: the table's transition, or no change."""
    transition = TRANSITIONS.get((call.state, event.get("Event", "")))
    if transition is None:
        return call, ()
    return transition(call, event, at)


@dataclass(frozen=True)
class Update:
    """A call that changed, with the screen pops the change causes."""

    call: Call
    pops: Effects


class Tracker:
    """The live calls, by Linkedid. Holds values only; reads and writes nothing."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}

    def feed(self, event: Event, received: datetime) -> Update | None:
        """Apply one event; the changed call (ended calls leave the tracker), or None."""
        linkedid = linkedid_of(event)
        if not linkedid:
            return None
        at = event_time(event, received)
        call = self.calls.get(linkedid)
        if call is None:
            new = arrive(event, at)
            if new is None:
                return None
            self.calls[linkedid] = new
            return Update(new, ())
        changed, pops = apply(call, event, at)
        if changed == call:
            return None
        if changed.state is CallState.ENDED:
            del self.calls[linkedid]
        else:
            self.calls[linkedid] = changed
        return Update(changed, pops)

    def adopt(self, call: Call) -> None:
        """Follow a call found by resync (or left unfinished in the log by an earlier run)."""
        if call.state is not CallState.ENDED:
            self.calls[call.linkedid] = call

    def forget(self, linkedid: str) -> Call | None:
        return self.calls.pop(linkedid, None)
