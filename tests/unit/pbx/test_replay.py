"""Recorded AMI streams from this project's Asterisk (tests/fixtures/ami/*.jsonl, made by
`callcenter listen --record` through tests/fixtures/ami/record_fixtures.py) replayed
through the parser's output into the call tracker: one fixture per scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.domain.calls import Call, Outcome, PopKind, RingResult, Tracker
from callcenter.pbx.frames import FrameParser
from callcenter.pbx.recording import read_recording

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"


def replay(name: str, *, through_bytes: bool = False) -> tuple[list[Call], list[tuple[str, str]]]:
    frames = read_recording(FIXTURES / f"{name}.jsonl")
    if through_bytes:  # the wire form again, fed in 7-byte reads: split letters included
        wire = b"".join(
            ("".join(f"{k}: {v}\r\n" for k, v in f.pairs) + "\r\n").encode() for f in frames
        )
        parser = FrameParser()
        at = frames[0].received_at
        frames = [g for i in range(0, len(wire), 7) for g in parser.feed(wire[i : i + 7], at)]
    tracker = Tracker()
    ended: list[Call] = []
    pops: list[tuple[str, str]] = []
    for frame in frames:
        update = tracker.feed(frame.as_dict(), frame.received_at or _never())
        if update is None:
            continue
        pops += [(p.kind.value, p.endpoint) for p in update.pops]
        if update.call.outcome is not None:
            ended.append(update.call)
    assert tracker.calls == {}, "every recorded call ends"
    return ended, pops


def _never() -> object:
    raise AssertionError("recorded frames carry their receive time")


def test_answered_by_op1_while_op2_rang_and_op3_was_busy() -> None:
    [call], pops = replay("answered")
    assert call.outcome is Outcome.ANSWERED
    assert (call.route, call.reason) == ("queue", "covered")
    assert call.caller_raw == "+48601000001"
    assert call.caller_name == "Zażółć Gęślą"
    assert call.operator == "op1"
    results = {r.endpoint: r.result for r in call.rings}
    assert results == {
        "op1": RingResult.ANSWERED,
        "op2": RingResult.CANCELLED,
        "op3": RingResult.BUSY,
    }
    assert call.wait_seconds is not None and 1.5 < call.wait_seconds < 5
    assert call.talk_seconds is not None and call.talk_seconds > 1
    assert ("ringing", "op1") in pops and ("answered", "op1") in pops
    assert ("ended", "op1") in pops
    assert not any(kind == "ringing" and ep not in ("op1", "op2", "op3") for kind, ep in pops)


def test_abandoned_in_the_queue() -> None:
    [call], pops = replay("abandoned")
    assert call.outcome is Outcome.ABANDONED
    assert call.missed
    assert call.caller_name == "Łukasz Żak"
    assert {r.result for r in call.rings} == {RingResult.CANCELLED}
    assert (PopKind.MISSED.value, "op1") in pops


def test_queue_timeout_is_unanswered_not_abandoned() -> None:
    [call], _ = replay("unanswered")
    assert call.outcome is Outcome.UNANSWERED
    assert call.queue.status == "TIMEOUT"
    assert call.wait_seconds is not None and 5 <= call.wait_seconds <= 8
    results = {r.endpoint: r.result for r in call.rings}
    assert results["op1"] is RingResult.NO_ANSWER
    assert results["op2"] is RingResult.BUSY


def test_a_rejected_route_plays_its_message() -> None:
    [call], pops = replay("rejected")
    assert (call.route, call.reason, call.outcome) == (
        "no_contract",
        "unknown_number",
        Outcome.REJECTED,
    )
    assert pops == []


@pytest.mark.parametrize("name", ["answered", "abandoned", "unanswered", "rejected"])
def test_the_same_log_from_split_bytes_and_from_a_second_replay(name: str) -> None:
    """Frames re-parsed from bytes in 7-byte reads give the same calls; so does a replay."""
    once, _ = replay(name)
    assert replay(name, through_bytes=True)[0] == once
    assert replay(name)[0] == once
