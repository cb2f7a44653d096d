"""Closing the calls a gap hid: what Asterisk's queue_log and CDRs say happened.

Theory of operation: while the listener was disconnected (or down), calls went on without it.
On every login it asks Asterisk which channels are live. A call it knew of whose channels are
all gone ended during the gap; a live channel it did not know of started during it. Asterisk
keeps two records the listener can read afterwards: `queue_log` (one line per queue event,
`epoch|callid|queue|agent|event|data...`, callid being the caller channel's Uniqueid, i.e. the
Linkedid) and the CDR CSV (one row per leg, with the Linkedid and our userfield
`route=..;reason=..;call=..;contract=..`). `close_from_records` replays those onto the call as
the events would have (the rings through the tracker's own `finish_ring`; a queue that gave
up, `EXITWITHTIMEOUT`, `EXITEMPTY`, or a caller who pressed 1, `EXITWITHKEY|1`, as the
queue's facts our dialplan would have published), then fixes the outcome with the tracker's
rule; nothing else is guessed. What the listener knew before the gap (kept in the call log
across a restart of our process) stays. A call neither record
knows is closed at the moment the gap was noticed, with what the listener last saw.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from callcenter.domain.call_values import (
    Call,
    CallState,
    Ring,
    RingResult,
    cancel_ringing,
    finish_ring,
    outcome_of,
)
from callcenter.domain.calls import endpoint_of


@dataclass(frozen=True)
class QueueLogEntry:
    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


def parse_queue_log(text: str) -> list[QueueLogEntry]:
    """Lines of Asterisk's queue_log; malformed lines are skipped."""
    entries = []
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 5 or (at := _epoch(parts[0])) is None:
            continue
        entries.append(
            QueueLogEntry(
                at=at,
                callid=parts[1],
                queue=parts[2],
                agent=parts[3],
                event=parts[4],
                data=tuple(parts[5:]),
            )
        )
    return entries


CDR_COLUMNS = (
    "start", "answer", "end", "clid", "src", "dst", "dcontext", "channel", "dstchannel",
    "lastapp", "lastdata", "duration", "billsec", "disposition", "uniqueid", "linkedid",
    "userfield", "sequence",
)  # fmt: skip


@dataclass(frozen=True)
class CdrRow:
    start: datetime | None
    answer: datetime | None
    end: datetime | None
    src: str
    channel: str
    dstchannel: str
    disposition: str
    uniqueid: str
    linkedid: str
    userfield: dict[str, str]


def _epoch(text: str) -> datetime | None:
    """Seconds since 1970 as a UTC time; None if unreadable or out of range."""
    try:
        value = float(text)
        return datetime.fromtimestamp(value, tz=UTC) if value > 0 else None
    except (ValueError, OverflowError, OSError):  # junk, inf, nan, past year 9999
        return None


def _records(text: str) -> Iterator[list[str]]:
    """The CSV records of `text`; a record the csv module cannot read (a field over its
    size limit) is skipped like a short row, and reading goes on at the next line."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            continue


def parse_cdr_csv(text: str) -> list[CdrRow]:
    """Rows of the CDR CSV written by asterisk-conf/cdr_custom.conf; short rows are skipped."""
    rows = []
    for fields in _records(text):
        if len(fields) < len(CDR_COLUMNS):
            continue
        row = dict(zip(CDR_COLUMNS, fields, strict=False))
        userfield = dict(part.split("=", 1) for part in row["userfield"].split(";") if "=" in part)
        rows.append(
            CdrRow(
                start=_epoch(row["start"]),
                answer=_epoch(row["answer"]),
                end=_epoch(row["end"]),
                src=row["src"],
                channel=row["channel"],
                dstchannel=row["dstchannel"],
                disposition=row["disposition"],
                uniqueid=row["uniqueid"],
                linkedid=row["linkedid"],
                userfield=userfield,
            )
        )
    return rows


def _agent(entry: QueueLogEntry) -> str:
    return endpoint_of(entry.agent)


def close_from_records(
    call: Call,
    queue_log: Sequence[QueueLogEntry],
    cdrs: Sequence[CdrRow],
    noticed: datetime,
) -> Call:
    """The call as its records show it ended; `noticed` (when the gap was seen) ends it when
    no record says when."""
    entries = sorted((e for e in queue_log if e.callid == call.linkedid), key=lambda e: e.at)
    rows = [r for r in cdrs if r.linkedid == call.linkedid]
    for row in rows:
        if call.route is None and row.userfield.get("route"):
            call = replace(
                call,
                route=row.userfield["route"],
                reason=row.userfield.get("reason") or None,
                contract=row.userfield.get("contract") or call.contract,
            )
    call = _apply_queue_log(call, entries)
    ends = [r.end for r in rows if r.end is not None]
    ends += [e.at for e in entries if e.event in _FINAL]
    ended = max(ends) if ends else noticed
    how = (
        "queue_log and CDR"
        if entries and rows
        else "queue_log"
        if entries
        else ("CDR" if rows else "no record: closed when the gap was noticed")
    )
    rings = cancel_ringing(call.rings, ended)
    closed = replace(
        call,
        state=CallState.ENDED,
        ended=ended,
        rings=rings,
        hangup_cause=call.hangup_cause or f"reconciled from {how}",
    )
    return replace(closed, outcome=outcome_of(closed))


_FINAL = ("COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY",
          "EXITWITHKEY")  # fmt: skip


# queue_log's EXIT lines of a queue that gave up on the caller, as our dialplan's
# CallcenterQueueEnd would have named it (QUEUESTATUS).
_QUEUE_GAVE_UP = {"EXITWITHTIMEOUT": "TIMEOUT", "EXITEMPTY": "LEAVEEMPTY"}
_CALLBACK_KEY = "1"  # EXITWITHKEY|1|...: pressed 1 to be called back ([cc-queue-exit])


def _apply_queue_log(call: Call, entries: Iterable[QueueLogEntry]) -> Call:
    for e in entries:
        queue = call.queue
        if e.event == "ENTERQUEUE":
            call = replace(call, queued=call.queued or e.at)
        elif e.event in ("RINGNOANSWER", "RINGCANCELED"):
            result = RingResult.NO_ANSWER if e.event == "RINGNOANSWER" else RingResult.CANCELLED
            call = replace(call, rings=_ring(call, e, result))
        elif e.event == "CONNECT" and call.answered is None:
            rings = _ring(call, e, RingResult.ANSWERED)
            call = replace(call, answered=e.at, operator=_agent(e), rings=rings)
        elif e.event == "ABANDON":
            call = replace(call, queue=queue.abandon(e.at))
        elif e.event in _QUEUE_GAVE_UP and not queue.status:
            call = replace(call, queue=queue.give_up(_QUEUE_GAVE_UP[e.event], e.at))
        elif e.event == "EXITWITHKEY" and e.data[:1] == (_CALLBACK_KEY,) and not queue.status:
            call = replace(call, queue=queue.give_up("CALLBACK", e.at))
        elif e.event.startswith("EXIT"):
            call = replace(call, queue=queue.leave(e.at))
    return call


def _ring(call: Call, e: QueueLogEntry, result: RingResult) -> tuple[Ring, ...]:
    """The ring a queue_log line finishes (one the events did not show is added)."""
    try:  # RINGNOANSWER|ringtime ms; CONNECT|holdtime|bridged channel|ringtime s
        ms = int(e.data[0]) if e.event.startswith("RING") else int(e.data[2]) * 1000
    except (IndexError, ValueError):
        ms = 0
    return finish_ring(call.rings, _agent(e), e.at, result, ms / 1000, unseen=True)


@dataclass(frozen=True)
class LiveChannel:
    """One channel as `CoreShowChannels` lists it."""

    channel: str
    uniqueid: str
    linkedid: str
    application: str
    seconds: float
    caller_num: str
    caller_name: str
    exten: str
    bridged: bool


def parse_duration(text: str) -> float:
    """`HH:MM:SS` (CoreShowChannels' Duration) in seconds; 0 if unreadable."""
    try:
        h, m, s = (int(p) for p in text.split(":"))
    except ValueError:
        return 0.0
    return float(h * 3600 + m * 60 + s)


def adopt_live(
    linkedid: str, channels: Sequence[LiveChannel], now: datetime, known: Call | None
) -> Call:
    """A call still up after a gap, as its live channels show it now."""
    caller = next((c for c in channels if c.uniqueid == linkedid), channels[0])
    call = known or Call(
        linkedid=linkedid,
        state=CallState.ARRIVED,
        arrived=datetime.fromtimestamp(now.timestamp() - caller.seconds, tz=UTC),
        caller_raw=caller.caller_num,
        caller_name=caller.caller_name,
        dialled=caller.exten,
    )
    operators = [c for c in channels if c.uniqueid != linkedid and c.bridged]
    if operators and call.answered is None:
        leg = operators[0]
        answered = datetime.fromtimestamp(now.timestamp() - leg.seconds, tz=UTC)
        return replace(
            call,
            state=CallState.ANSWERED,
            answered=answered,
            operator=endpoint_of(leg.channel),
            queued=call.queued or call.arrived,
        )
    if caller.application == "Queue" and call.queued is None:
        return replace(call, state=CallState.QUEUED, queued=now)
    return call
