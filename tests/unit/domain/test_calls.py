"""The call lifecycle state machine (domain/calls.py), fed synthetic Asterisk 22 events.

Recorded streams from the real Asterisk are replayed in tests/unit/pbx/test_replay.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.domain.calls import (
    CallState,
    Outcome,
    PopKind,
    RingResult,
    Tracker,
    endpoint_of,
    event_time,
)

T0 = 1_764_500_000.0
LID = "1764500000.10"


def ev(name: str, t: float, **fields: str) -> dict[str, str]:
    base = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Linkedid": LID, "Uniqueid": LID}
    return {**base, **fields}


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, tz=UTC)


def arrival() -> list[dict[str, str]]:
    return [
        ev(
            "Newchannel",
            0,
            Channel="PJSIP/trunk-00000001",
            CallerIDNum="+48601234567",
            CallerIDName="Zażółć Gęślą",
            Exten="800",
        ),
        ev(
            "UserEvent",
            1,
            UserEvent="CallcenterDecision",
            Route="queue",
            Reason="covered",
            Call=LID,
            Contract="A-1",
            Dialled="800",
        ),
    ]


def queued() -> list[dict[str, str]]:
    return [
        *arrival(),
        ev("QueueCallerJoin", 2, Queue="support", Position="1", Count="1"),
        ev("Newchannel", 2.1, Channel="PJSIP/op1-00000002", Uniqueid="1764500002.11"),
        ev("AgentCalled", 2.2, Interface="PJSIP/op1", DestChannel="PJSIP/op1-00000002"),
        ev("Newchannel", 2.1, Channel="PJSIP/op2-00000003", Uniqueid="1764500002.12"),
        ev("AgentCalled", 2.2, Interface="PJSIP/op2", DestChannel="PJSIP/op2-00000003"),
    ]


def run(events: list[dict[str, str]]) -> tuple[Tracker, list]:
    tracker = Tracker()
    updates = [u for e in events if (u := tracker.feed(e, at(999))) is not None]
    return tracker, updates


def test_an_answered_call_ends_with_operator_wait_talk_and_rings() -> None:
    events = [
        *queued(),
        ev("AgentConnect", 7.2, Interface="PJSIP/op2", HoldTime="5", RingTime="5"),
        ev("QueueCallerLeave", 7.2, Queue="support"),
        ev("Hangup", 20, Uniqueid="1764500002.12", Channel="PJSIP/op2-00000003"),
        ev("AgentComplete", 20, Interface="PJSIP/op2", TalkTime="13"),
        ev("Hangup", 20.5, Channel="PJSIP/trunk-00000001", **{"Cause-txt": "Normal Clearing"}),
    ]
    tracker, updates = run(events)
    call = updates[-1].call
    assert tracker.calls == {}
    assert call.state is CallState.ENDED
    assert call.outcome is Outcome.ANSWERED
    assert (call.route, call.reason, call.contract) == ("queue", "covered", "A-1")
    assert call.caller_name == "Zażółć Gęślą"
    assert call.operator == "op2"
    assert call.queued == at(2) and call.answered == at(7.2) and call.ended == at(20.5)
    assert call.wait_seconds == 5.2
    assert call.talk_seconds == 13.3
    assert [(r.endpoint, r.result) for r in call.rings] == [
        ("op1", RingResult.CANCELLED),
        ("op2", RingResult.ANSWERED),
    ]
    pops = [(p.kind, p.endpoint) for u in updates for p in u.pops]
    assert pops == [
        (PopKind.RINGING, "op1"),
        (PopKind.RINGING, "op2"),
        (PopKind.ANSWERED, "op2"),
        (PopKind.TAKEN, "op1"),
        (PopKind.ENDED, "op2"),
    ]


def test_ring_no_answer_time_is_in_milliseconds() -> None:
    events = [
        *queued(),
        ev("AgentRingNoAnswer", 17.2, Interface="PJSIP/op1", RingTime="15000"),
    ]
    _, updates = run(events)
    ring = updates[-1].call.rings[0]
    assert (ring.endpoint, ring.result, ring.seconds) == ("op1", RingResult.NO_ANSWER, 15.0)
    assert [(p.kind, p.endpoint) for p in updates[-1].pops] == [(PopKind.MISSED, "op1")]


def test_a_busy_operator_is_recorded_from_dial_end() -> None:
    events = [*queued(), ev("DialEnd", 2.3, DestChannel="PJSIP/op1-00000002", DialStatus="BUSY")]
    _, updates = run(events)
    assert updates[-1].call.rings[0].result is RingResult.BUSY


def test_a_busy_operator_as_asterisk_22_reports_it() -> None:
    """NOANSWER with RingTime 0, then the operator's leg hangs up with cause 17 (busy)."""
    events = [
        *queued(),
        ev("DialEnd", 2.3, DestChannel="PJSIP/op1-00000002", DialStatus="NOANSWER"),
        ev("AgentRingNoAnswer", 2.3, Interface="PJSIP/op1", RingTime="0"),
        ev("Hangup", 2.3, Uniqueid="1764500002.11", Channel="PJSIP/op1-00000002", Cause="17"),
    ]
    _, updates = run(events)
    assert updates[-1].call.rings[0].result is RingResult.BUSY


def test_hanging_up_in_the_queue_is_abandoned() -> None:
    events = [
        *queued(),
        ev("QueueCallerAbandon", 9, Queue="support", HoldTime="7"),
        ev("Hangup", 9, Channel="PJSIP/trunk-00000001"),
    ]
    _, updates = run(events)
    call = updates[-1].call
    assert call.outcome is Outcome.ABANDONED
    assert call.missed
    assert call.wait_seconds == 7.0
    assert all(r.result is RingResult.CANCELLED for r in call.rings)


def test_leaving_the_queue_without_an_operator_is_unanswered() -> None:
    """As Asterisk 22 reports a queue timeout: QueueCallerAbandon, then our dialplan's
    CallcenterQueueEnd, the timeout prompt, and the caller's hang-up."""
    events = [
        *queued(),
        ev("QueueCallerAbandon", 62, Queue="support", HoldTime="60"),
        ev("QueueCallerLeave", 62, Queue="support"),
        ev("UserEvent", 62.1, UserEvent="CallcenterQueueEnd", Status="TIMEOUT"),
        ev("Hangup", 66, Channel="PJSIP/trunk-00000001"),
    ]
    _, updates = run(events)
    assert updates[-1].call.outcome is Outcome.UNANSWERED
    assert updates[-1].call.wait_seconds == 60.0


def test_a_message_route_is_rejected_and_closed_counts_as_missed() -> None:
    events = arrival()
    events[1] = {**events[1], "Route": "closed", "Reason": "outside_hours"}
    _, updates = run([*events, ev("Hangup", 8, Channel="PJSIP/trunk-00000001")])
    call = updates[-1].call
    assert call.outcome is Outcome.REJECTED
    assert call.missed


def test_no_decision_is_failed() -> None:
    _, updates = run([arrival()[0], ev("Hangup", 1, Channel="PJSIP/trunk-00000001")])
    assert updates[-1].call.outcome is Outcome.FAILED


def test_replaying_events_is_idempotent() -> None:
    """A duplicated event finds the call already past it: nothing changes twice."""
    events = queued()
    doubled = [e for e in events for _ in range(2)]
    tracker_once, _ = run(events)
    tracker_twice, _ = run(doubled)
    assert tracker_once.calls == tracker_twice.calls


def test_events_of_other_calls_and_without_linkedid_are_ignored() -> None:
    tracker, updates = run([{"Event": "PeerStatus", "Timestamp": "1"}, *arrival()])
    assert len(updates) == 2
    assert tracker.feed(ev("Hangup", 3, Linkedid="other", Uniqueid="other"), at(0)) is None


def test_helpers() -> None:
    assert endpoint_of("PJSIP/op1-0000000a") == "op1"
    assert endpoint_of("PJSIP/op-1") == "op-1"
    assert endpoint_of("PJSIP/op3") == "op3"
    assert event_time({}, at(5)) == at(5)
    assert event_time({"Timestamp": "junk"}, at(5)) == at(5)


def test_hanging_up_on_the_way_to_the_queue_is_abandoned() -> None:
    _, updates = run([*arrival(), ev("Hangup", 3, Channel="PJSIP/trunk-00000001")])
    assert updates[-1].call.outcome is Outcome.ABANDONED
    assert updates[-1].call.missed
