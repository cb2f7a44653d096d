"""The call state machine read off its table (domain/calls.py), the queue's facts, and the
rule that a call's log entry only moves forward: a final call is never reopened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.domain import calls
from callcenter.domain.calls import (
    CALLER_HANGUP,
    DECISION,
    LEG_HANGUP,
    QUEUE_END,
    ROWS,
    STAY,
    TRANSITIONS,
    Call,
    CallState,
    Outcome,
    QueueFacts,
    Ring,
    RingResult,
    Step,
    Tracker,
    event_key,
    finish_ring,
    moves_forward,
    outcome_of,
    table,
)

T0 = 1_764_500_000.0
LID = "1764500000.10"


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, tz=UTC)


def ev(name: str, t: float, **fields: str) -> dict[str, str]:
    base = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Linkedid": LID, "Uniqueid": LID}
    return {**base, **fields}


NEWCHANNEL = ev("Newchannel", 0, Channel="PJSIP/trunk-00000001", CallerIDNum="+48601234567")
DECIDED = ev("UserEvent", 1, UserEvent="CallcenterDecision", Route="queue", Reason="covered")
JOIN = ev("QueueCallerJoin", 2, Queue="support")
CALLED = ev("AgentCalled", 2.2, Interface="PJSIP/op1", DestChannel="PJSIP/op1-00000002")
CONNECT = ev("AgentConnect", 5, Interface="PJSIP/op1")
HANGUP = ev("Hangup", 30, Channel="PJSIP/trunk-00000001")


def feed(tracker: Tracker, events: list[dict[str, str]]) -> list[calls.Update]:
    return [u for e in events if (u := tracker.feed(e, at(999))) is not None]


# --- the table ------------------------------------------------------------------------------


def test_each_entry_names_its_next_state_and_its_handler() -> None:
    assert TRANSITIONS[CallState.ARRIVED, DECISION].next is CallState.DECIDED
    assert TRANSITIONS[CallState.DECIDED, "QueueCallerJoin"].next is CallState.QUEUED
    assert TRANSITIONS[CallState.QUEUED, "AgentCalled"].next is CallState.QUEUED
    assert TRANSITIONS[CallState.QUEUED, "AgentConnect"].next is CallState.ANSWERED
    assert TRANSITIONS[CallState.ANSWERED, LEG_HANGUP].next is CallState.ANSWERED
    for state in (CallState.ARRIVED, CallState.QUEUED, CallState.ANSWERED):
        assert TRANSITIONS[state, CALLER_HANGUP].next is CallState.ENDED
    assert all(isinstance(step, Step) and callable(step.handler) for step in TRANSITIONS.values())


def test_an_ended_call_has_no_entry_at_all() -> None:
    assert [key for key in TRANSITIONS if key[0] is CallState.ENDED] == []


def test_the_decision_is_keyed_by_its_name_not_as_any_user_event() -> None:
    assert event_key(DECIDED) == DECISION == "UserEvent CallcenterDecision"
    assert event_key({**DECIDED, "UserEvent": "CallcenterQueueEnd"}) == QUEUE_END
    assert not any(event == "UserEvent" for _, event in TRANSITIONS)
    tracker = Tracker()
    feed(tracker, [NEWCHANNEL])
    # Someone else's UserEvent (or ours with another name) is no decision.
    assert tracker.feed({**DECIDED, "UserEvent": "SomethingElse"}, at(9)) is None
    assert tracker.calls[LID].state is CallState.ARRIVED


def test_a_hangup_is_the_callers_or_an_operator_legs() -> None:
    assert event_key(HANGUP) == CALLER_HANGUP
    leg = ev("Hangup", 3, Uniqueid="1764500002.11", Channel="PJSIP/op1-00000002")
    assert event_key(leg) == LEG_HANGUP
    tracker = Tracker()
    feed(tracker, [NEWCHANNEL, DECIDED, JOIN, CALLED])
    assert tracker.feed(leg, at(9)) is None  # the call goes on
    assert tracker.calls[LID].state is CallState.QUEUED


def test_a_row_is_added_to_the_table_as_plain_data() -> None:
    def noted(call: Call, event: calls.Event, when: datetime) -> tuple[Call, calls.Effects]:
        return call, ()

    extended = table([*ROWS, ((CallState.ANSWERED,), "BlindTransfer", STAY, noted)])
    assert extended[CallState.ANSWERED, "BlindTransfer"] == Step(CallState.ANSWERED, noted)
    with pytest.raises(ValueError, match="two rows"):
        table([*ROWS, ((CallState.QUEUED,), "AgentConnect", CallState.ANSWERED, noted)])


# --- the queue's facts ----------------------------------------------------------------------


def test_a_queue_timeout_is_a_fact_of_the_queue_not_an_abandon() -> None:
    """app_queue reports the timeout as QueueCallerAbandon; our dialplan's QueueEnd says
    the queue gave up."""
    tracker = Tracker()
    events = [
        NEWCHANNEL, DECIDED, JOIN, CALLED,
        ev("QueueCallerAbandon", 62, Queue="support"),
        ev("QueueCallerLeave", 62, Queue="support"),
        ev("UserEvent", 62.1, UserEvent="CallcenterQueueEnd", Status="TIMEOUT"),
    ]  # fmt: skip
    feed(tracker, events)
    call = tracker.calls[LID]
    assert call.state is CallState.QUEUED  # the queue's facts are no state
    assert call.queue == QueueFacts(left=at(62), abandoned=False, status="TIMEOUT")
    [update] = feed(tracker, [ev("Hangup", 66, Channel="PJSIP/trunk-00000001")])
    assert update.call.outcome is Outcome.UNANSWERED


def test_a_queue_status_from_the_wire_is_kept_as_a_short_code() -> None:
    facts = QueueFacts().give_up("time<b>out</b>\r\n" * 10, at(1))
    assert facts.status == "TIMEBOUTBTIMEBOUTBTI"
    assert QueueFacts().give_up("", at(1)).status == "ENDED"


@pytest.mark.parametrize(
    ("facts", "queued", "outcome"),
    [
        (QueueFacts(), True, Outcome.UNANSWERED),
        (QueueFacts(abandoned=True), True, Outcome.ABANDONED),
        (QueueFacts(status="TIMEOUT"), True, Outcome.UNANSWERED),
        (QueueFacts(status="CALLBACK"), True, Outcome.CALLBACK_REQUESTED),
        # The records of a gap may say both: the queue's own end wins.
        (QueueFacts(abandoned=True, status="TIMEOUT"), True, Outcome.UNANSWERED),
        (QueueFacts(), False, Outcome.ABANDONED),  # hung up on the way to the queue
    ],
)
def test_the_outcome_from_the_queues_facts(
    facts: QueueFacts, queued: bool, outcome: Outcome
) -> None:
    call = Call(LID, CallState.ENDED, at(0), route="queue", queue=facts, ended=at(9),
                queued=at(2) if queued else None)  # fmt: skip
    assert outcome_of(call) is outcome


# --- a final call is never reopened ---------------------------------------------------------


def test_a_replayed_newchannel_and_decision_do_not_reopen_an_ended_call() -> None:
    tracker = Tracker()
    updates = feed(tracker, [NEWCHANNEL, DECIDED, JOIN, CALLED, CONNECT, HANGUP])
    assert updates[-1].call.outcome is Outcome.ANSWERED
    assert feed(tracker, [NEWCHANNEL, DECIDED, JOIN, CALLED, HANGUP]) == []
    assert tracker.calls == {}


def test_a_call_closed_by_resync_is_not_reopened_either() -> None:
    tracker = Tracker()
    feed(tracker, [NEWCHANNEL, DECIDED])
    assert tracker.forget(LID) is not None
    assert feed(tracker, [NEWCHANNEL, DECIDED]) == []


def test_the_tracker_remembers_a_bounded_number_of_ended_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calls, "REMEMBER_ENDED", 2)
    tracker = Tracker()
    for lid in ("a", "b", "c"):
        tracker.forget(lid)
    assert list(tracker.ended) == ["b", "c"]


@pytest.mark.parametrize(
    ("logged", "new", "allowed"),
    [
        (CallState.ARRIVED, CallState.ARRIVED, True),
        (CallState.DECIDED, CallState.QUEUED, True),
        (CallState.QUEUED, CallState.QUEUED, True),  # a ring more
        (CallState.ANSWERED, CallState.ENDED, True),
        (CallState.ANSWERED, CallState.ARRIVED, False),  # a replayed Newchannel
        (CallState.QUEUED, CallState.DECIDED, False),
        (CallState.ENDED, CallState.ENDED, False),  # a resync that knew less
        (CallState.ENDED, CallState.ARRIVED, False),
    ],
)
def test_a_log_entry_only_moves_forward(logged: CallState, new: CallState, allowed: bool) -> None:
    assert moves_forward(logged, new) is allowed


# --- the rings: one function for the events and for the records -----------------------------


def test_finish_ring_finishes_the_newest_ring_still_ringing() -> None:
    rings = (
        Ring("op1", at(2), 15.0, RingResult.NO_ANSWER),
        Ring("op2", at(2)),
        Ring("op1", at(22)),
    )
    done = finish_ring(rings, "op1", at(25), RingResult.ANSWERED)
    assert done == (rings[0], rings[1], Ring("op1", at(22), 3.0, RingResult.ANSWERED))
    assert finish_ring(rings, "op3", at(25), RingResult.BUSY) == rings  # nobody rang op3


def test_finish_ring_adds_a_ring_the_events_did_not_show() -> None:
    done = finish_ring((), "op3", at(20), RingResult.NO_ANSWER, 15.0, unseen=True)
    assert done == (Ring("op3", at(5), 15.0, RingResult.NO_ANSWER),)


@pytest.mark.parametrize("stamp", ["1e400", "-1e400", "nan", "99999999999999999", ""])
def test_a_timestamp_out_of_range_falls_back_to_the_receive_time(stamp: str) -> None:
    assert calls.event_time({"Timestamp": stamp}, at(5)) == at(5)
