"""The live wallboard: the queue's members and waiting callers, folded from AMI events.

Theory of operation
-------------------
A `Board` is what the wall shows of the queues right now: each member (an operator's phone
in a queue) with the last status Asterisk gave for it, and each caller waiting in a queue.
`fold(board, event, at)` takes one AMI event (as a mapping of its fields) and the time it was
received, and returns the next board; the events it reads are the table `HANDLERS`, an event
not in it (or one that names nothing on the board) returns the same board. `rebuild(board,
frames, at)` makes a board anew from the answer to the `QueueStatus` action (its
`QueueParams`, `QueueMember` and `QueueEntry` events), as the listener asks after every AMI
(re)login: whatever was missed while the connection was down is then right again.

A member's state comes from the absolute fields every member event carries (`Status`, the
device state of its phone, and `Paused`), never from counting events, so an old event
applied after a newer rebuild does no lasting harm: the next event of the member says all
again, and the same status read twice is the same state. Precedence: a phone Asterisk cannot
reach is `unreachable`; one in a call `talking` (also while paused: the pause only stops new
calls), ringing `ringing`; otherwise `paused` or `free`. Asterisk's "unknown" device state is
`free`, as the queue itself treats it (it rings such a member).

Who rings or talks to whom comes from `AgentCalled` / `AgentConnect` (the caller's number),
cleared by `AgentComplete`, `AgentRingNoAnswer` and `AgentDump`; it is a detail for the
screen, not part of the state.

Times are receive times in the listener's clock (the same clock as the `now` a view is made
for), not the events' `Timestamp`s: a wait on the wall is `now - joined` in one clock.
A waiting caller's `joined` is the receive time of `QueueCallerJoin`, or, rebuilt, the
rebuild's time minus the entry's `Wait`; a caller known before a rebuild keeps the time
already known. A member's `since` is when its shown state began (unknown after a rebuild
that found it in another state: None).

`view(board, now)` is the JSON-able picture a screen draws: waiting callers in order of
arrival with their wait so far, members by name with their state and how long in it.
`today_counts(calls)` are the day's counters, the service-level figures of domain/reports.py
over today's calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final

from callcenter.domain.ami_events import caller_id_given, endpoint_of
from callcenter.domain.calendar import WARSAW, warsaw
from callcenter.domain.reports import ANSWER_TARGETS, CallFacts, figures

Event = Mapping[str, str]


class MemberState(StrEnum):
    FREE = "free"
    RINGING = "ringing"
    TALKING = "talking"
    PAUSED = "paused"
    UNREACHABLE = "unreachable"


# Asterisk's device states (include/asterisk/devicestate.h, `enum ast_device_state`), as the
# `Status` field of the queue member events gives them.
DEVICE_UNKNOWN: Final = 0
DEVICE_NOT_INUSE: Final = 1
DEVICE_INUSE: Final = 2
DEVICE_BUSY: Final = 3
DEVICE_INVALID: Final = 4
DEVICE_UNAVAILABLE: Final = 5
DEVICE_RINGING: Final = 6
DEVICE_RINGINUSE: Final = 7
DEVICE_ONHOLD: Final = 8

_UNREACHABLE: Final = frozenset({DEVICE_INVALID, DEVICE_UNAVAILABLE})
_IN_CALL: Final = frozenset({DEVICE_INUSE, DEVICE_BUSY, DEVICE_RINGINUSE, DEVICE_ONHOLD})


def member_state(status: int, paused: bool) -> MemberState:
    """The state shown for a member with this device `status` and pause flag."""
    if status in _UNREACHABLE:
        return MemberState.UNREACHABLE
    if status in _IN_CALL:
        return MemberState.TALKING
    if status == DEVICE_RINGING:
        return MemberState.RINGING
    return MemberState.PAUSED if paused else MemberState.FREE


@dataclass(frozen=True)
class Member:
    """One queue member: an operator's phone (`interface`, e.g. PJSIP/op1) in one queue."""

    queue: str
    interface: str
    name: str  # the member name (queues.conf: the endpoint, op1)
    status: int = DEVICE_UNKNOWN
    paused: bool = False
    pause_reason: str = ""
    since: datetime | None = None  # when the shown state began (None: not known)
    caller: str | None = None  # who rings or talks to this member (AgentCalled/Connect)

    @property
    def state(self) -> MemberState:
        return member_state(self.status, self.paused)

    @property
    def key(self) -> tuple[str, str]:
        return (self.queue, self.interface)


@dataclass(frozen=True)
class Waiting:
    """A caller waiting in a queue."""

    uniqueid: str
    queue: str
    caller: str
    caller_name: str
    joined: datetime
    position: int = 0  # Asterisk's, at joining (breaks ties of `joined`)


@dataclass(frozen=True)
class Board:
    members: Mapping[tuple[str, str], Member] = field(default_factory=dict)
    waiting: Mapping[str, Waiting] = field(default_factory=dict)  # by the caller's Uniqueid
    version: int = 0  # +1 on every change (a screen keeps the newest it has seen)


# --- reading the events --------------------------------------------------------------------


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _member_fields(event: Event) -> tuple[str, str] | None:
    """(queue, interface) of a member event; QueueStatus's QueueMember says `Location`."""
    queue = event.get("Queue") or ""
    interface = event.get("Interface") or event.get("Location") or ""
    return (queue, interface) if queue and interface else None


def _member_name(event: Event, interface: str) -> str:
    return event.get("MemberName") or event.get("Name") or endpoint_of(interface)


def _caller(event: Event) -> str:
    return caller_id_given(event.get("CallerIDNum"))


def _caller_name(event: Event) -> str:
    return caller_id_given(event.get("CallerIDName"))


def _changed(board: Board, **changes: Any) -> Board:
    return replace(board, version=board.version + 1, **changes)


def _with_member(board: Board, member: Member) -> Board:
    if board.members.get(member.key) == member:
        return board
    return _changed(board, members={**board.members, member.key: member})


def _status_of(
    old: Member | None, event: Event, at: datetime | None, key: tuple[str, str]
) -> Member:
    """A member as a status-carrying event (QueueMemberStatus/Added/Pause, QueueMember) says."""
    queue, interface = key
    status = _int(event.get("Status"), old.status if old else DEVICE_UNKNOWN)
    paused = _flag(event.get("Paused")) if "Paused" in event else (old.paused if old else False)
    reason = (event.get("PausedReason") or "") if paused else ""
    new = Member(
        queue=queue,
        interface=interface,
        name=_member_name(event, interface),
        status=status,
        paused=paused,
        pause_reason=reason,
        since=old.since if old else at,
        caller=old.caller if old else None,
    )
    if old is not None and old.state is not new.state:
        new = replace(new, since=at)
    if new.state in (MemberState.FREE, MemberState.PAUSED, MemberState.UNREACHABLE):
        new = replace(new, caller=None)
    return new


# --- the fold ------------------------------------------------------------------------------


def _member_status(board: Board, event: Event, at: datetime) -> Board:
    key = _member_fields(event)
    if key is None:
        return board
    return _with_member(board, _status_of(board.members.get(key), event, at, key))


def _member_removed(board: Board, event: Event, at: datetime) -> Board:
    key = _member_fields(event)
    if key is None or key not in board.members:
        return board
    return _changed(board, members={k: m for k, m in board.members.items() if k != key})


def _agent_called(board: Board, event: Event, at: datetime) -> Board:
    return _set_caller(board, event, _caller(event) or None)


def _agent_done(board: Board, event: Event, at: datetime) -> Board:
    return _set_caller(board, event, None)


def _set_caller(board: Board, event: Event, caller: str | None) -> Board:
    key = _member_fields(event)
    member = board.members.get(key) if key else None
    if member is None or member.caller == caller:
        return board
    return _with_member(board, replace(member, caller=caller))


def _caller_join(board: Board, event: Event, at: datetime) -> Board:
    uniqueid, queue = event.get("Uniqueid") or "", event.get("Queue") or ""
    if not uniqueid or not queue or uniqueid in board.waiting:
        return board  # a repeated join keeps the first time
    entry = Waiting(uniqueid, queue, _caller(event), _caller_name(event), at,
                    _int(event.get("Position")))  # fmt: skip
    return _changed(board, waiting={**board.waiting, uniqueid: entry})


def _caller_leave(board: Board, event: Event, at: datetime) -> Board:
    uniqueid = event.get("Uniqueid") or ""
    if uniqueid not in board.waiting:
        return board
    return _changed(board, waiting={k: w for k, w in board.waiting.items() if k != uniqueid})


Handler = Callable[[Board, Event, datetime], Board]

HANDLERS: Final[Mapping[str, Handler]] = {
    "QueueMemberAdded": _member_status,
    "QueueMemberStatus": _member_status,
    "QueueMemberPause": _member_status,
    "QueueMemberPaused": _member_status,  # the name before Asterisk 12; harmless to read
    "QueueMemberRemoved": _member_removed,
    "AgentCalled": _agent_called,
    "AgentConnect": _agent_called,
    "AgentComplete": _agent_done,
    "AgentRingNoAnswer": _agent_done,
    "AgentDump": _agent_done,
    "QueueCallerJoin": _caller_join,
    "QueueCallerLeave": _caller_leave,
    "QueueCallerAbandon": _caller_leave,
}
EVENTS: Final = frozenset(HANDLERS)


def fold(board: Board, event: Event, at: datetime) -> Board:
    """The board after `event` (received at `at`); the same board if it changes nothing."""
    handler = HANDLERS.get(event.get("Event") or "")
    return board if handler is None else handler(board, event, at)


def fold_all(board: Board, events: Iterable[tuple[Event, datetime]]) -> Board:
    for event, at in events:
        board = fold(board, event, at)
    return board


def rebuild(board: Board, frames: Iterable[Event], at: datetime) -> Board:
    """The board as the `QueueStatus` answer `frames` says at `at` (the answer's events:
    `QueueParams`, `QueueMember`, `QueueEntry`). What the old board knew and the answer
    confirms (a member still in the same state, a caller still waiting) keeps its times."""
    members: dict[tuple[str, str], Member] = {}
    waiting: dict[str, Waiting] = {}
    for frame in frames:
        name = frame.get("Event")
        if name == "QueueMember" and (key := _member_fields(frame)) is not None:
            old = board.members.get(key)
            member = _status_of(old, frame, None, key)
            if old is None:
                member = replace(member, since=None)
            members[key] = member
        elif name == "QueueEntry" and (uniqueid := frame.get("Uniqueid") or ""):
            known = board.waiting.get(uniqueid)
            waited = timedelta(seconds=max(_int(frame.get("Wait")), 0))
            waiting[uniqueid] = Waiting(
                uniqueid=uniqueid,
                queue=frame.get("Queue") or "",
                caller=_caller(frame),
                caller_name=_caller_name(frame),
                joined=known.joined if known else at - waited,
                position=_int(frame.get("Position")),
            )
    if members == dict(board.members) and waiting == dict(board.waiting):
        return board
    return Board(members=members, waiting=waiting, version=board.version + 1)


# --- what a screen shows -------------------------------------------------------------------


def _seconds(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round(max((now - since).total_seconds(), 0.0), 1)


def _member_order(member: Member) -> tuple[str, str, str]:
    return (member.name, member.queue, member.interface)


def view(board: Board, now: datetime) -> dict[str, Any]:
    """The board as a screen draws it at `now` (JSON-able). Waits and times in a state are
    seconds at `now`; a screen adds the time gone by since it got them."""
    waiting = sorted(board.waiting.values(), key=lambda w: (w.joined, w.position, w.uniqueid))
    members = sorted(board.members.values(), key=_member_order)
    states = [m.state for m in members]
    return {
        "version": board.version,
        "at": now.isoformat(),
        "waiting": [
            {
                "position": place,
                "queue": w.queue,
                "caller": w.caller,
                "caller_name": w.caller_name,
                "joined": w.joined.isoformat(),
                "waited_s": _seconds(w.joined, now),
            }
            for place, w in enumerate(waiting, start=1)
        ],
        "longest_wait_s": _seconds(waiting[0].joined, now) if waiting else None,
        "operators": [
            {
                "name": m.name,
                "queue": m.queue,
                "interface": m.interface,
                "state": m.state.value,
                "paused": m.paused,
                "pause_reason": m.pause_reason,
                "since": m.since.isoformat() if m.since else None,
                "for_s": _seconds(m.since, now),
                "caller": m.caller,
            }
            for m in members
        ],
        "states": {state.value: states.count(state) for state in MemberState},
    }


@dataclass(frozen=True)
class Counts:
    """Today's counters (domain/reports.py's definitions): offered counts every inbound call
    that arrived today, the ones still going on too; answered, abandoned, unanswered and
    rejected count the calls that are over, by outcome; the service level is the share of
    today's queued calls that are over which were answered within `target_s` (None: none)."""

    offered: int
    answered: int
    abandoned: int
    unanswered: int
    rejected: int
    queued_over: int
    answered_in_target: int
    target_s: float = ANSWER_TARGETS[0]

    @property
    def service_level(self) -> float | None:
        return None if self.queued_over == 0 else self.answered_in_target / self.queued_over

    def as_json(self, waiting_now: int | None = None) -> dict[str, Any]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "unanswered": self.unanswered,
            "rejected": self.rejected,
            "waiting": waiting_now,
            "service_level": self.service_level,
            "service_level_target_s": self.target_s,
            "queued_over": self.queued_over,
            "answered_in_target": self.answered_in_target,
        }


def today_counts(calls: Sequence[CallFacts]) -> Counts:
    """The counters of today's `calls` (the caller picks today's; see `Counts`)."""
    day = figures(calls)
    over = figures([c for c in calls if c.outcome is not None])
    return Counts(
        offered=day.offered,
        answered=day.answered,
        abandoned=day.abandoned,
        unanswered=day.unanswered,
        rejected=day.rejected,
        queued_over=over.queued,
        answered_in_target=over.answered_within_20,
    )


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The Warsaw calendar day of `now`, as [start, end): the counters' "today"."""
    day = warsaw(now).date()
    start = datetime.combine(day, time(), tzinfo=WARSAW)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=WARSAW)
    return start, end
