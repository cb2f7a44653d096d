"""What follows an ended call (clause 3): a callback, a ticket draft, or nothing.

Theory of operation: the shell gives an ended call, whether its caller is covered (a phone
contract in its paid period, as the routing decision found or as identified later from the
log) and the caller's number; `what_follows` says what the call leaves behind:

- an answered call opens a ticket draft for the operator who took it (`ticket_draft`);
- a missed call (abandoned, unanswered, called back on request, or `closed`) of a covered
  customer whose number is known becomes a callback, due by the end of the next working day
  after the call counts (`callback_for`). A repeat call from the same number within the
  window after the open callback's last call joins it (one more call, the later time, and
  "requested" if either asked);
- anything else leaves nothing.

A call with no decision from the routing service (or a `fail_open` one) is identified from
the log first (`needs_identification`): as of its arrival, by the same routing rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain.calendar import Calendar
from callcenter.domain.calls import Call, CallState, Outcome
from callcenter.domain.terms import Reason


class FollowUp(StrEnum):
    NOTHING = "nothing"
    CALLBACK = "callback"
    TICKET_DRAFT = "ticket_draft"


def needs_identification(decided_at: datetime | None, reason: str | None) -> bool:
    """No decision from the routing service (or the dialplan's own fail-open): the caller is
    identified from the log, as of the call's arrival."""
    return decided_at is None or reason == Reason.FAIL_OPEN.value


def what_follows(call: Call, covered: bool, caller_e164: str | None) -> FollowUp:
    if call.state is not CallState.ENDED:
        return FollowUp.NOTHING
    if call.outcome is Outcome.ANSWERED:
        return FollowUp.TICKET_DRAFT
    if call.missed and covered and caller_e164:
        return FollowUp.CALLBACK
    return FollowUp.NOTHING


@dataclass(frozen=True)
class TicketDraft:
    """The draft an answered call opens: an answer until the operator says otherwise; it
    uses no allowance until completed."""

    received_at: datetime
    operator: str | None
    created_at: datetime
    kind: str = "answer"
    status: str = "draft"


def ticket_draft(call: Call) -> TicketDraft:
    return TicketDraft(
        received_at=call.answered or call.arrived,
        operator=call.operator,
        created_at=call.ended or call.arrived,
    )


@dataclass(frozen=True)
class OpenCallback:
    """The newest callback of a number not yet done, as the store has it."""

    id: int
    last_call_at: datetime
    calls: int
    requested: bool


@dataclass(frozen=True)
class JoinCallback:
    """The call joins an open callback: its new values."""

    id: int
    last_call_at: datetime
    calls: int
    requested: bool


@dataclass(frozen=True)
class NewCallback:
    caller_e164: str
    contract: str | None
    first_call_at: datetime
    last_call_at: datetime
    due_at: datetime
    created_at: datetime
    requested: bool
    calls: int = 1


def joins(open_one: OpenCallback, arrived: datetime, window: timedelta) -> bool:
    """A repeat call within the window after the open callback's last call joins it."""
    return open_one.last_call_at >= arrived - window


def callback_for(
    call: Call,
    caller_e164: str,
    contract: str | None,
    open_one: OpenCallback | None,
    window: timedelta,
    calendar: Calendar,
) -> JoinCallback | NewCallback:
    """The callback a covered customer's missed call makes or joins."""
    requested = call.outcome is Outcome.CALLBACK_REQUESTED  # pressed 1 in the queue
    if open_one is not None and joins(open_one, call.arrived, window):
        return JoinCallback(
            id=open_one.id,
            last_call_at=max(open_one.last_call_at, call.arrived),
            calls=open_one.calls + 1,
            requested=open_one.requested or requested,
        )
    return NewCallback(
        caller_e164=caller_e164,
        contract=contract,
        first_call_at=call.arrived,
        last_call_at=call.arrived,
        due_at=calendar.due(call.arrived),
        created_at=call.ended or call.arrived,
        requested=requested,
    )
