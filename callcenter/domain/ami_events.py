"""Reading the AMI events the call machine follows: their time, the call and the operator
they name, and the name an event goes by in the machine's table (domain/calls.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

Event = Mapping[str, str]


def event_time(event: Event, fallback: datetime) -> datetime:
    """The event's own `Timestamp` (epoch seconds), else `fallback` (the receive time)."""
    stamp = event.get("Timestamp", "")
    try:
        return datetime.fromtimestamp(float(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):  # junk, nan, inf, past year 9999
        return fallback


UNKNOWN_CALLER_ID: Final = ("<unknown>", "unknown")  # Asterisk's words for "none given"


def caller_id_given(value: str | None) -> str:
    """A CallerIDNum or CallerIDName as the caller gave it: "" where Asterisk only says it
    has none ("<unknown>"), so no screen or log shows Asterisk's placeholder as a name."""
    return "" if not value or value in UNKNOWN_CALLER_ID else value


def endpoint_of(channel_or_interface: str) -> str:
    """`PJSIP/op1-0000000a` or `PJSIP/op1` -> `op1`."""
    name = channel_or_interface.split("/", 1)[-1]
    head, sep, tail = name.rpartition("-")
    if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return head
    return name


def linkedid_of(event: Event) -> str | None:
    return event.get("Linkedid") or event.get("LinkedID") or None


# The names of events whose AMI `Event` alone does not say what happened.
DECISION: Final = "UserEvent CallcenterDecision"  # the routing decision, as the dialplan took it
QUEUE_END: Final = "UserEvent CallcenterQueueEnd"  # the queue gave up on the caller
CALLER_HANGUP: Final = "Hangup"  # the caller's channel hung up: the call is over
LEG_HANGUP: Final = "Hangup leg"  # an operator's channel hung up; the call goes on


def event_key(event: Event) -> str:
    """The event's name in the table: its `Event`; a UserEvent by its own name
    (`UserEvent CallcenterDecision`); a Hangup by whose channel it was."""
    name = event.get("Event", "")
    if name == "UserEvent":
        return f"UserEvent {event.get('UserEvent', '')}"
    if name == "Hangup" and event.get("Uniqueid") != linkedid_of(event):
        return LEG_HANGUP
    return name


def interface_of(event: Event) -> str:
    return endpoint_of(event.get("Interface") or event.get("DestChannel") or "")


def none_if_empty(value: str) -> str | None:
    return value or None
