"""Returning a callback: what an attempt's result is, what counts, what closes the callback;
and the originated call's own small state machine, from Asterisk's events.

An attempt ("Call back", one click) rings the operator's phone first; once the operator
answers, Asterisk dials the customer's number through the trunk. Rules:

- the result is `operator_no_answer` when the operator did not take it (the customer was
  never dialled); otherwise the customer leg's dial status decides: `reached` (answered),
  `busy`, `no_answer` (no answer, or the operator gave up while it rang), `unreachable`
  (the network could not reach the number); `failed` when the call could not be placed
  or the operator hung up before the customer was dialled;
- an attempt counts (the callback's attempts) when the customer was dialled;
- a reached customer closes the callback (done at the attempt's end); any other result
  leaves it open;
- one attempt at a time per callback: another is refused while one is under way, unless
  it started longer ago than `STALE_ATTEMPT` (its end was never seen).

The originated call is keyed, like every call, by Asterisk's Linkedid. We choose it: the
Originate sets the channel's Uniqueid (`ChannelId`) to `attempt_linkedid(...)`, so the
listener can tell an attempt's events from an inbound call's from the first event on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from callcenter.domain.calls import endpoint_of, event_time, linkedid_of

STALE_ATTEMPT = timedelta(minutes=10)


class AttemptResult(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    OPERATOR_NO_ANSWER = "operator_no_answer"
    FAILED = "failed"


_COUNTED = frozenset(
    {AttemptResult.REACHED, AttemptResult.NO_ANSWER, AttemptResult.BUSY, AttemptResult.UNREACHABLE}
)

# The customer leg's DIALSTATUS (Asterisk's Dial) -> the attempt's result.
_DIAL_STATUS: Mapping[str, AttemptResult] = {
    "ANSWER": AttemptResult.REACHED,
    "BUSY": AttemptResult.BUSY,
    "NOANSWER": AttemptResult.NO_ANSWER,
    "CANCEL": AttemptResult.NO_ANSWER,
    "CHANUNAVAIL": AttemptResult.UNREACHABLE,
    "CONGESTION": AttemptResult.UNREACHABLE,
}


def attempt_result(operator_answered: bool, dial_status: str) -> AttemptResult:
    """How an attempt ended, from whether the operator answered and the customer leg's
    dial status ("" when the customer was never dialled)."""
    if not operator_answered:
        return AttemptResult.OPERATOR_NO_ANSWER
    return _DIAL_STATUS.get(dial_status, AttemptResult.FAILED)


def counts_as_attempt(result: AttemptResult) -> bool:
    """The customer was dialled: the attempt is counted on the callback."""
    return result in _COUNTED


def closes_callback(result: AttemptResult) -> bool:
    return result is AttemptResult.REACHED


@dataclass(frozen=True)
class CallbackProgress:
    """What the callback list keeps of its attempts."""

    attempts: int
    done_at: datetime | None


def after_attempt(
    progress: CallbackProgress, result: AttemptResult, ended: datetime
) -> CallbackProgress:
    """The callback after one attempt ended with `result` at `ended`."""
    attempts = progress.attempts + (1 if counts_as_attempt(result) else 0)
    done_at = progress.done_at
    if done_at is None and closes_callback(result):
        done_at = ended
    return CallbackProgress(attempts, done_at)


def refusal(done_at: datetime | None, running_since: datetime | None, now: datetime) -> str | None:
    """Why a new attempt may not start now (None: it may). `running_since`: the start of
    the newest attempt whose end is not known yet."""
    if done_at is not None:
        return "is done already"
    if running_since is not None and now - running_since < STALE_ATTEMPT:
        return "is being called back right now"
    return None


# --- the originated call's Linkedid -----------------------------------------------------------

ATTEMPT_PREFIX: Final = "cc-callback-"  # how every attempt's Linkedid starts
_LINKEDID = re.compile(re.escape(ATTEMPT_PREFIX) + r"([0-9]{1,18})-([0-9a-f]{4,32})")


def attempt_linkedid(attempt_id: int, token: str) -> str:
    """The Uniqueid (and so Linkedid) the Originate gives the operator's channel."""
    linkedid = f"{ATTEMPT_PREFIX}{attempt_id}-{token}"
    if not _LINKEDID.fullmatch(linkedid):
        raise ValueError(f"bad attempt id or token: {attempt_id!r}, {token!r}")
    return linkedid


def attempt_of(linkedid: str) -> int | None:
    """The attempt id in an originated call's Linkedid; None for any other call."""
    found = _LINKEDID.fullmatch(linkedid)
    return int(found[1]) if found else None


# --- the originated call ----------------------------------------------------------------------


class OutboundState(StrEnum):
    RINGING_OPERATOR = "ringing_operator"
    DIALLING = "dialling"  # the operator answered; the customer's phone rings
    TALKING = "talking"
    ENDED = "ended"


@dataclass(frozen=True)
class OutboundCall:
    """One attempt's call as Asterisk reports it."""

    linkedid: str
    attempt_id: int
    started: datetime
    state: OutboundState = OutboundState.RINGING_OPERATOR
    operator: str | None = None
    number: str = ""
    operator_answered: datetime | None = None
    answered: datetime | None = None  # the customer answered
    ended: datetime | None = None
    dial_status: str = ""
    hangup_cause: str = ""
    result: AttemptResult | None = None

    @property
    def ring_seconds(self) -> float | None:
        """How long the operator's phone rang."""
        until = self.operator_answered or self.ended
        return None if until is None else max((until - self.started).total_seconds(), 0.0)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered is None or self.ended is None:
            return None
        return max((self.ended - self.answered).total_seconds(), 0.0)


Event = Mapping[str, str]
_Step = Callable[[OutboundCall, Event, datetime], OutboundCall]


def _own(event: Event, call: OutboundCall) -> bool:
    """An event of the operator's channel itself (not the customer leg's)."""
    return event.get("Uniqueid") == call.linkedid


def _state_up(call: OutboundCall, event: Event, at: datetime) -> OutboundCall:
    if not _own(event, call) or event.get("ChannelState") != "6" or call.operator_answered:
        return call
    return replace(call, operator_answered=at, state=OutboundState.DIALLING)


def _dial_begin(call: OutboundCall, event: Event, at: datetime) -> OutboundCall:
    if not _own(event, call):
        return call
    number = event.get("DialString", "").split("@", 1)[0] or event.get("DestExten", "")
    return replace(call, number=call.number or number, state=OutboundState.DIALLING)


def _dial_end(call: OutboundCall, event: Event, at: datetime) -> OutboundCall:
    if not _own(event, call) or call.dial_status:
        return call
    status = event.get("DialStatus", "")
    if status == "ANSWER":
        return replace(call, dial_status=status, answered=at, state=OutboundState.TALKING)
    return replace(call, dial_status=status)


def _hangup(call: OutboundCall, event: Event, at: datetime) -> OutboundCall:
    if not _own(event, call):
        return call
    result = attempt_result(call.operator_answered is not None, call.dial_status)
    return replace(
        call,
        state=OutboundState.ENDED,
        ended=at,
        hangup_cause=event.get("Cause-txt", "") or event.get("Cause", ""),
        result=result,
    )


STEPS: Mapping[str, _Step] = {
    "Newstate": _state_up,
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "Hangup": _hangup,
}


class OutboundTracker:
    """The attempts' calls in progress, by Linkedid. Values only; reads and writes nothing."""

    def __init__(self) -> None:
        self.calls: dict[str, OutboundCall] = {}

    @staticmethod
    def claims(event: Event) -> bool:
        """An originated attempt's event (whatever the tracker knows of it)."""
        return attempt_of(linkedid_of(event) or "") is not None

    def feed(self, event: Event, received: datetime) -> OutboundCall | None:
        """Apply one claimed event; the changed call (ended calls leave), or None."""
        linkedid = linkedid_of(event) or ""
        attempt_id = attempt_of(linkedid)
        if attempt_id is None:
            return None
        at = event_time(event, received)
        call = self.calls.get(linkedid)
        if call is None:
            if event.get("Uniqueid") != linkedid:
                return None  # a leg seen before its call's own channel: nothing to follow
            call = OutboundCall(
                linkedid=linkedid,
                attempt_id=attempt_id,
                started=at,
                operator=endpoint_of(event.get("Channel", "")) or None,
            )
            self.calls[linkedid] = call
            changed = _apply(call, event, at)
            self._keep(changed)
            return changed
        changed = _apply(call, event, at)
        if changed == call:
            return None
        self._keep(changed)
        return changed

    def _keep(self, call: OutboundCall) -> None:
        if call.state is OutboundState.ENDED:
            self.calls.pop(call.linkedid, None)
        else:
            self.calls[call.linkedid] = call


def _apply(call: OutboundCall, event: Event, at: datetime) -> OutboundCall:
    if call.state is OutboundState.ENDED:
        return call
    step = STEPS.get(event.get("Event", ""))
    return call if step is None else step(call, event, at)
