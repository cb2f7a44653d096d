"""Due times kept or broken (clause 3), as a manager reviews tickets and callbacks.

Theory of operation: a ticket is due by the end of the next working day after the day it
counts as received (`Calendar.due`); a callback is due by the due time set when the missed
call made it. Either is *breached* when it was done after its due time (a late answer, a
late call back) or is still open past it. A done item is judged by when it was done, never
by `now`; an open one by `now`. The extension of the paid period a late answer causes is
clause 6's (`contracts.extensions_caused`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from callcenter.domain.calendar import SOONEST_DUE, Calendar
from callcenter.domain.contracts import Request

__all__ = [
    "SOONEST_DUE",
    "CallbackStanding",
    "TicketDue",
    "TicketStanding",
    "is_breached",
    "ticket_due",
]


class TicketStanding(StrEnum):
    """What the manager's ticket list narrows to."""

    OPEN = "open"
    ANSWERED = "answered"
    BREACHED = "breached"


class CallbackStanding(StrEnum):
    """What the manager's callback list narrows to."""

    OPEN = "open"
    DONE = "done"
    BREACHED = "breached"


def is_breached(due_at: datetime, done_at: datetime | None, now: datetime) -> bool:
    """Done after its due time, or still open with `now` past it."""
    if done_at is not None:
        return done_at > due_at
    return now > due_at


@dataclass(frozen=True)
class TicketDue:
    """A ticket's due time and whether it was (or is being) kept."""

    due_at: datetime
    answered: bool
    breached: bool


def ticket_due(request: Request, calendar: Calendar, now: datetime) -> TicketDue:
    due_at = calendar.due(request.received_at)
    return TicketDue(
        due_at=due_at,
        answered=request.answered_at is not None,
        breached=is_breached(due_at, request.answered_at, now),
    )
