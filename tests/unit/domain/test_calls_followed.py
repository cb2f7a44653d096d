"""The tracker's fast path (domain/calls.py FOLLOWED): an event whose AMI `Event` no row of
the machine reads is skipped unread; every event a row reads must still get through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.domain.calls import FOLLOWED, ROWS, Call, CallState, Tracker
from callcenter.pbx.recording import read_recording
from tests.unit.domain.every_event import EveryEventTracker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
T0 = 1_764_500_000.0
LID = "1764500000.1"


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.jsonl")))
def test_a_recorded_stream_moves_its_calls_as_when_every_event_is_read(name: str) -> None:
    fast, every = Tracker(), EveryEventTracker()
    skipped = 0
    for frame in read_recording(FIXTURES / f"{name}.jsonl"):
        event, at = frame.as_dict(), frame.received_at or datetime.now(UTC)
        assert fast.feed(event, at) == every.feed(event, at)
        skipped += event.get("Event") not in FOLLOWED
    assert fast.calls == every.calls and fast.ended == every.ended
    assert skipped > 0  # the recording has events the machine has no row for


def ev(name: str, t: float, **fields: str) -> dict[str, str]:
    return {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Uniqueid": LID, "Linkedid": LID,
            **fields}  # fmt: skip


def answered(answer: bool = True) -> Call:
    tracker = Tracker()
    for event in (
        ev("Newchannel", 0, CallerIDNum="+48601000001"),
        ev("UserEvent", 1, UserEvent="CallcenterDecision", Route="queue", Reason="covered"),
        ev("QueueCallerJoin", 2),
        ev("AgentCalled", 3, Interface="PJSIP/op1"),
        *([ev("AgentConnect", 4, Interface="PJSIP/op1")] if answer else []),
    ):
        tracker.feed(event, datetime.now(UTC))
    return tracker.calls[LID]


def test_every_event_a_row_reads_is_followed() -> None:
    for states, name, _, _ in ROWS:
        assert name.split(" ", 1)[0] in FOLLOWED, (states, name)
    assert {"Newchannel", "UserEvent", "Hangup", "DialBegin", "DialEnd"} <= FOLLOWED
    assert not {"QueueMemberStatus", "Newstate", "Cdr", "VarSet", "BridgeEnter"} & FOLLOWED


def test_the_callers_hangup_is_not_skipped_and_ends_the_call() -> None:
    tracker = Tracker()
    tracker.calls[LID] = answered()
    update = tracker.feed(ev("Hangup", 9, Cause="16"), datetime.now(UTC))
    assert update is not None and update.call.state is CallState.ENDED
    assert LID not in tracker.calls


def test_an_operator_legs_hangup_is_not_skipped() -> None:
    """`Hangup leg` is a table name, not an AMI Event: its Event (Hangup) must get through."""
    tracker = Tracker()
    tracker.calls[LID] = answered(answer=False)  # op1's phone rings
    leg = {**ev("Hangup", 5, Cause="17", Channel="PJSIP/op1-0000000a"), "Uniqueid": "9.9"}
    update = tracker.feed(leg, datetime.now(UTC))
    assert update is not None  # the busy cause marks op1's ring; the call goes on
    assert [r.result.value for r in update.call.rings] == ["busy"]
    assert update.call.state is CallState.QUEUED


def test_an_event_no_row_reads_changes_nothing_even_for_a_live_call() -> None:
    tracker = Tracker()
    tracker.calls[LID] = call = answered()
    for name in ("Newstate", "QueueMemberStatus", "Cdr", "BridgeEnter", "VarSet"):
        assert tracker.feed(ev(name, 6, Interface="PJSIP/op1"), datetime.now(UTC)) is None
    assert tracker.calls[LID] == call
