"""The call lifecycle: Asterisk's AMI events in, one call's log entry out.

Theory of operation: a call is everything Asterisk links under one `Linkedid`: the caller's
channel (whose `Uniqueid` is the Linkedid) and the operators' channels the queue rings. The
tracker keeps one `Call` value per Linkedid and moves it through a small state machine:

    arrived --UserEvent CallcenterDecision--> decided --QueueCallerJoin--> queued
    queued --AgentConnect--> answered
    answered --DialBegin/DialEnd of a colleague (blind transfer)--> answered (by the colleague)
    any of these --Hangup (the caller's channel)--> ended

The machine is the table `TRANSITIONS`, keyed by (state, event): each entry names the next
state and the handler that records what the event says (times, operators rung, the queue's
facts) and the screen pops it causes. An event is named by its AMI `Event`, except our
dialplan's UserEvents, named by their own name (`UserEvent CallcenterDecision`), and a
`Hangup`, which is the caller's channel's (`Hangup`: the call ends) or an operator leg's
(`Hangup leg`): see `event_key`. An event with no entry for the current state changes
nothing, which makes applying a stream idempotent: a replayed or duplicated event finds the
call already past it. Times come from the events' own `Timestamp` (manager.conf
`timestampevents=yes`), never from a clock, so replaying a recording gives the same log.

What the queue says of the caller that is no state of the call is kept apart, as the call's
`QueueFacts`: when the caller left the queue, whether they hung up waiting there (abandoned),
and whether the queue gave up on them and why (our dialplan's `CallcenterQueueEnd` status:
`TIMEOUT`, ..., or `CALLBACK` when they pressed 1). The call log keeps them too, so a call
followed again after a restart of our process ends the same way.

An operator may pass the caller on to a colleague (a blind transfer: features.conf's # and
the colleague's digit). Asterisk sends the caller's channel (out of the queue) to the
transfer context, which dials the colleague under the same Linkedid (a Local channel does
when the caller is in a plain bridge): the call stays one entry. When the colleague's phone
rings, the first operator's pop ends and the colleague's opens (a ring, a ringing pop with
the contract); answering, the colleague becomes the call's operator. Both rings stay
`answered`; the talk time runs from the first answer.

When the caller's channel hangs up, the outcome is fixed: `answered` (an operator connected),
`callback_requested` (pressed 1 in the queue), `unanswered` (the queue gave up, e.g. its
timeout, or the caller left it without an operator), `abandoned` (hung up while waiting in
the queue), `rejected` (a route other than `queue` played its message), or `failed` (no
decision was ever published). A caller sent to the queue who hangs up before reaching it
(during the "putting you through" prompt) has abandoned too.

The call's values (`Call`, its rings, its queue facts) and the rules the gap reconciliation
(domain/reconcile.py) shares with this machine (finishing a ring, fixing the outcome) are in
domain/call_values.py.

An ended call is final: a call's log entry only moves forward (`moves_forward`). The tracker
remembers the calls that ended lately, so a replayed `Newchannel` of one does not open it
again, and the store never writes an earlier state, or anything at all, over a final entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, NamedTuple

from callcenter.domain.ami_events import (
    CALLER_HANGUP,
    DECISION,
    LEG_HANGUP,
    QUEUE_END,
    Event,
    caller_id_given,
    endpoint_of,
    event_key,
    event_time,
    interface_of,
    linkedid_of,
    none_if_empty,
)
from callcenter.domain.call_values import (
    QUEUE_END_OUTCOMES,
    Call,
    CallState,
    Outcome,
    Pop,
    PopKind,
    QueueFacts,
    Ring,
    RingResult,
    cancel_ringing,
    finish_ring,
    moves_forward,
    outcome_of,
)

__all__ = [  # the call's values, with the machine that moves them
    "FOLLOWED", "QUEUE_END_OUTCOMES", "Call", "CallState", "Outcome", "Pop", "PopKind",
    "QueueFacts", "Ring", "RingResult", "Tracker", "Update", "apply", "arrive", "cancel_ringing",
    "endpoint_of", "event_key", "event_time", "finish_ring", "linkedid_of", "moves_forward",
    "outcome_of",
]  # fmt: skip


Effects = tuple[Pop, ...]
Handler = Callable[[Call, Event, datetime], tuple[Call, Effects]]


# --- handlers: what each event records ------------------------------------------------------


def _mark_busy(rings: tuple[Ring, ...], endpoint: str) -> tuple[Ring, ...]:
    """`endpoint`'s newest ring was a busy phone (Asterisk said NOANSWER, or it rings on)."""
    for i in range(len(rings) - 1, -1, -1):
        if rings[i].endpoint == endpoint:
            if rings[i].result in (RingResult.RINGING, RingResult.NO_ANSWER):
                busy = replace(rings[i], result=RingResult.BUSY, seconds=0.0)
                return (*rings[:i], busy, *rings[i + 1 :])
            break
    return rings


def _decided(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(
        call,
        route=none_if_empty(event.get("Route", "")),
        reason=none_if_empty(event.get("Reason", "")),
        contract=none_if_empty(event.get("Contract", "")) or call.contract,
        dialled=event.get("Dialled", "") or call.dialled,
    ), ()


def _queue_gave_up(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, queue=call.queue.give_up(event.get("Status", ""), at)), ()


def _queued(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, queued=call.queued or at), ()


def _ringing(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = interface_of(event)
    if any(r.endpoint == endpoint and r.started == at for r in call.rings):
        return call, ()  # the same event again
    ring = Ring(endpoint=endpoint, started=at)
    return replace(call, rings=(*call.rings, ring)), (
        Pop(PopKind.RINGING, endpoint, call.linkedid, at),
    )


def _ring_no_answer(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = interface_of(event)
    try:
        seconds: float | None = int(event.get("RingTime", "")) / 1000  # milliseconds here
    except ValueError:
        seconds = None
    rings = finish_ring(call.rings, endpoint, at, RingResult.NO_ANSWER, seconds)
    return replace(call, rings=rings), (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


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
    endpoint = interface_of(event)
    rings = finish_ring(call.rings, endpoint, at, result)
    if rings == call.rings:
        return call, ()
    return replace(call, rings=rings), (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


def _connected(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    endpoint = interface_of(event)
    rings = finish_ring(call.rings, endpoint, at, RingResult.ANSWERED)
    pops = [Pop(PopKind.ANSWERED, endpoint, call.linkedid, at)]
    pops += [
        Pop(PopKind.TAKEN, r.endpoint, call.linkedid, at)
        for r in rings
        if r.result is RingResult.RINGING
    ]
    rings = cancel_ringing(rings, at)
    return replace(call, answered=at, operator=endpoint, rings=rings), tuple(pops)


def _abandoned(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, queue=call.queue.abandon(at)), _close_rings(call, at, PopKind.MISSED)


def _left_queue(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    return replace(call, queue=call.queue.leave(at)), ()


def _close_rings(call: Call, at: datetime, kind: PopKind) -> Effects:
    return tuple(
        Pop(kind, r.endpoint, call.linkedid, at)
        for r in call.rings
        if r.result is RingResult.RINGING
    )


_USER_BUSY = "17"  # Q.850 cause: app_queue reports a busy member as NOANSWER, RingTime 0


def _leg_hung_up(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """An operator's leg: its cause tells a busy operator from one who did not answer."""
    if event.get("Cause") == _USER_BUSY:
        busy = _mark_busy(call.rings, endpoint_of(event.get("Channel", "")))
        return replace(call, rings=busy), ()
    return call, ()


def _ended(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    pops = list(_close_rings(call, at, PopKind.MISSED))
    if call.operator:
        pops.append(Pop(PopKind.ENDED, call.operator, call.linkedid, at))
    ended = replace(
        call,
        ended=at,
        rings=cancel_ringing(call.rings, at),
        hangup_cause=event.get("Cause-txt", "") or event.get("Cause", ""),
    )
    return replace(ended, outcome=outcome_of(ended)), tuple(pops)


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
    updated = replace(call, rings=finish_ring(call.rings, endpoint, at, result))
    if updated == call:
        return call, ()  # no ring of theirs was ringing: a duplicate
    if result is RingResult.ANSWERED:
        return replace(updated, operator=endpoint), (
            Pop(PopKind.ANSWERED, endpoint, call.linkedid, at),
        )
    return updated, (Pop(PopKind.MISSED, endpoint, call.linkedid, at),)


# --- the table ----------------------------------------------------------------------------


class Step(NamedTuple):
    """A table entry: the state the call moves to, and what the event records."""

    next: CallState
    handler: Handler


STAY: Final = None  # a row whose event leaves the call in the state it is in

ARRIVED, DECIDED, QUEUED = CallState.ARRIVED, CallState.DECIDED, CallState.QUEUED
ANSWERED, ENDED = CallState.ANSWERED, CallState.ENDED
_WAITING = (ARRIVED, DECIDED, QUEUED)
_LIVE = (*_WAITING, ANSWERED)

# A row: the states it applies in, the event, the next state (or STAY), the handler.
Row = tuple[tuple[CallState, ...], str, CallState | None, Handler]

# The machine. Ended calls have no row: nothing moves a final call.
ROWS: list[Row] = [
    ((ARRIVED,),                  DECISION,             DECIDED,  _decided),
    ((DECIDED, QUEUED, ANSWERED), DECISION,             STAY,     _decided),
    ((ARRIVED, DECIDED),          "QueueCallerJoin",    QUEUED,   _queued),
    (_WAITING,                    "AgentCalled",        STAY,     _ringing),
    (_WAITING,                    "AgentRingNoAnswer",  STAY,     _ring_no_answer),
    (_WAITING,                    "DialEnd",            STAY,     _dial_end),
    (_WAITING,                    "AgentConnect",       ANSWERED, _connected),
    (_WAITING,                    "QueueCallerAbandon", STAY,     _abandoned),
    (_WAITING,                    "QueueCallerLeave",   STAY,     _left_queue),
    (_WAITING,                    QUEUE_END,            STAY,     _queue_gave_up),
    (_LIVE,                       LEG_HANGUP,           STAY,     _leg_hung_up),
    (_LIVE,                       CALLER_HANGUP,        ENDED,    _ended),
    # A blind transfer to a colleague: the call stays answered, its operator changes.
    ((ANSWERED,),                 "DialBegin",          STAY,     _colleague_rung),
    ((ANSWERED,),                 "DialEnd",            STAY,     _colleague_dial_end),
]  # fmt: skip


def table(rows: list[Row]) -> dict[tuple[CallState, str], Step]:
    """The rows as (state, event) -> Step entries; a row given twice for an entry is a bug."""
    entries: dict[tuple[CallState, str], Step] = {}
    for states, event, to, handler in rows:
        for state in states:
            if (state, event) in entries:
                raise ValueError(f"two rows for ({state}, {event})")
            entries[state, event] = Step(state if to is STAY else to, handler)
    return entries


TRANSITIONS: dict[tuple[CallState, str], Step] = table(ROWS)

# The AMI `Event`s that can move a call: arrive's Newchannel and each row's (a table name is
# the Event, then maybe a word of its own: `UserEvent CallcenterDecision`, `Hangup leg`). The
# tracker changes nothing for any other event, so whoever feeds it may skip those unread.
FOLLOWED: Final = frozenset({"Newchannel", *(event.split(" ", 1)[0] for _, event, _, _ in ROWS)})


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
        caller_name=caller_id_given(event.get("CallerIDName")),
        dialled=event.get("Exten", ""),
    )


def apply(call: Call, event: Event, at: datetime) -> tuple[Call, Effects]:
    """One event applied to one call: the table's entry, or no change."""
    step = TRANSITIONS.get((call.state, event_key(event)))
    if step is None:
        return call, ()
    changed, effects = step.handler(call, event, at)
    if changed.state is not step.next:
        changed = replace(changed, state=step.next)
    return changed, effects


@dataclass(frozen=True)
class Update:
    """A call that changed, with the screen pops the change causes."""

    call: Call
    pops: Effects


REMEMBER_ENDED = 10_000  # the calls that ended lately, whose replayed events are ignored


class Tracker:
    """The live calls, by Linkedid. Holds values only; reads and writes nothing."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.ended: dict[str, None] = {}  # Linkedids of calls that ended lately, oldest first

    def feed(self, event: Event, received: datetime) -> Update | None:
        """Apply one event; the changed call (ended calls leave the tracker), or None."""
        linkedid = linkedid_of(event)
        if not linkedid or event.get("Event") not in FOLLOWED:
            return None
        at = event_time(event, received)
        call = self.calls.get(linkedid)
        if call is None:
            new = arrive(event, at) if linkedid not in self.ended else None
            if new is None:
                return None
            self.calls[linkedid] = new
            return Update(new, ())
        changed, pops = apply(call, event, at)
        if changed == call:
            return None
        if changed.state is CallState.ENDED:
            self.forget(linkedid)
        else:
            self.calls[linkedid] = changed
        return Update(changed, pops)

    def adopt(self, call: Call) -> None:
        """Follow a call found by resync (or left unfinished in the log by an earlier run)."""
        if call.state is not CallState.ENDED:
            self.calls[call.linkedid] = call

    def forget(self, linkedid: str) -> Call | None:
        """The call ended (seen, or found by resync): its later events are older facts."""
        self.ended[linkedid] = None
        while len(self.ended) > REMEMBER_ENDED:
            del self.ended[next(iter(self.ended))]
        return self.calls.pop(linkedid, None)
