"""A blind transfer to a colleague (domain/calls.py): the operator who answered presses # and
the colleague's digit; Asterisk sends the caller's channel to [cc-transfer], which dials
the colleague under the caller's Linkedid. The call stays one entry with both operators; the pop moves to the colleague.

The events are shaped as Asterisk 22 sends them (tests/fixtures/ami/transferred.jsonl is the
real one, replayed in tests/integration/test_replay_sqlite.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.domain.calls import Outcome, PopKind, RingResult, Tracker

T0 = 1_764_500_000.0
LID = "1764500000.10"
OP1 = "PJSIP/op1-00000002"
OP2 = "PJSIP/op2-00000005"
LOCAL2 = "Local/2@cc-transfer-00000000;2"
CALLER = "PJSIP/trunk-00000001"


def ev(name: str, t: float, **fields: str) -> dict[str, str]:
    base = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Linkedid": LID, "Uniqueid": LID}
    return {**base, **fields}


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, tz=UTC)


def answered_by_op1() -> list[dict[str, str]]:
    return [
        ev("Newchannel", 0, Channel="PJSIP/trunk-00000001", CallerIDNum="+48601234567"),
        ev(
            "UserEvent",
            1,
            UserEvent="CallcenterDecision",
            Route="queue",
            Reason="covered",
            Contract="A-1",
        ),
        ev("QueueCallerJoin", 2, Queue="support"),
        ev("AgentCalled", 2.1, Interface="PJSIP/op1", DestChannel=OP1),
        ev("AgentConnect", 4, Interface="PJSIP/op1", DestChannel=OP1),
    ]


def blind_transfer(t: float) -> dict[str, str]:
    """Asterisk's BlindTransfer names no Linkedid of its own (the transferer's and the
    transferee's only): the tracker follows the transfer by the colleague's dial."""
    return {
        "Event": "BlindTransfer",
        "Timestamp": f"{T0 + t:.6f}",
        "Result": "Success",
        "TransfererChannel": OP1,
        "TransfererLinkedid": LID,
        "TransfereeChannel": "PJSIP/trunk-00000001",
        "TransfereeLinkedid": LID,
        "Context": "cc-transfer",
        "Extension": "2",
    }


def colleague(t: float, status: str = "ANSWER", channel: str = "") -> list[dict[str, str]]:
    """As Asterisk 22 does it for a caller in the queue: the caller's own channel, sent to
    [cc-transfer], dials the colleague (`channel` another dialling channel, e.g. Local)."""
    by = {"Channel": channel, "Uniqueid": "1764500010.14"} if channel else {"Channel": CALLER}
    return [
        ev("DialBegin", t, **by, DestChannel=OP2, Context="cc-transfer"),
        ev("DialEnd", t + 3, **by, DestChannel=OP2, DialStatus=status, Context="cc-transfer"),
    ]


def run(events: list[dict[str, str]]) -> tuple[Tracker, list]:
    tracker = Tracker()
    updates = [u for e in events if (u := tracker.feed(e, at(999))) is not None]
    return tracker, updates


def test_the_transferred_call_is_one_record_with_both_operators() -> None:
    events = [
        *answered_by_op1(),
        blind_transfer(10),
        *colleague(10.1),
        ev("Hangup", 10.2, Uniqueid="1764500002.11", Channel=OP1, Cause="16"),
        ev("Hangup", 30, Channel="PJSIP/trunk-00000001", Cause="16"),
    ]
    tracker, updates = run(events)
    call = updates[-1].call
    assert tracker.calls == {}
    assert call.outcome is Outcome.ANSWERED
    assert call.operator == "op2"  # who had the caller at the end
    assert call.answered == at(4)  # talk time from the first answer
    assert call.talk_seconds == 26
    assert [(r.endpoint, r.result, r.seconds) for r in call.rings] == [
        ("op1", RingResult.ANSWERED, 1.9),
        ("op2", RingResult.ANSWERED, 3.0),
    ]
    pops = [(p.kind, p.endpoint, p.at) for u in updates for p in u.pops]
    assert pops == [
        (PopKind.RINGING, "op1", at(2.1)),
        (PopKind.ANSWERED, "op1", at(4)),
        (PopKind.ENDED, "op1", at(10.1)),  # op1 let go: their pop closes
        (PopKind.RINGING, "op2", at(10.1)),  # op2's pop opens (with the contract)
        (PopKind.ANSWERED, "op2", at(13.1)),
        (PopKind.ENDED, "op2", at(30)),
    ]


def test_a_colleague_who_does_not_answer_leaves_the_call_with_the_first_operator() -> None:
    events = [*answered_by_op1(), blind_transfer(10), *colleague(10.1, "NOANSWER")]
    tracker, updates = run(events)
    call = tracker.calls[LID]
    assert call.operator == "op1"
    assert call.rings[-1].endpoint == "op2"
    assert call.rings[-1].result is RingResult.NO_ANSWER
    assert [(p.kind, p.endpoint) for p in updates[-1].pops] == [(PopKind.MISSED, "op2")]


def test_the_queue_s_own_late_cancel_is_no_transfer() -> None:
    """A queue's DialEnd CANCEL for a member arriving after AgentConnect finds no ringing
    ring: nothing changes, no pop."""
    late = ev("DialEnd", 4.1, Channel=CALLER, DestChannel="PJSIP/op2-00000003",
              DialStatus="CANCEL")  # fmt: skip
    tracker, updates = run([*answered_by_op1(), late])
    assert len(updates) == 5
    assert [r.endpoint for r in tracker.calls[LID].rings] == ["op1"]


def test_a_replayed_transfer_changes_nothing() -> None:
    events = [*answered_by_op1(), blind_transfer(10), *colleague(10.1)]
    tracker, updates = run([*events, *colleague(10.1)])
    assert len(updates) == len(run(events)[1])
    assert [r.endpoint for r in tracker.calls[LID].rings] == ["op1", "op2"]


def test_a_colleague_dialled_from_a_local_channel_counts_too() -> None:
    events = [*answered_by_op1(), *colleague(10.1, channel=LOCAL2)]
    tracker, _ = run(events)
    call = tracker.calls[LID]
    assert (call.operator, [r.endpoint for r in call.rings]) == ("op2", ["op1", "op2"])


def test_an_operator_leg_dialling_out_is_no_transfer() -> None:
    """Only the caller's channel (or a Local one) dials a colleague; an operator's own
    channel dialling is not this call's transfer."""
    dial = ev("DialBegin", 10, Channel=OP1, Uniqueid="1764500002.11", DestChannel=OP2)
    _, updates = run([*answered_by_op1(), dial])
    assert len(updates) == 5
