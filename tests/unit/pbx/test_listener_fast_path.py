"""The listener's fast path (pbx/listener.py `handle`): an event that moves no call is not
read any further, and an event that does (an inbound call's, a callback attempt's whatever
its name) always gets through. Nothing is written here: what the listener marks for the
call log and the pops it publishes are caught on the way out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from callcenter.config import Settings
from callcenter.domain.callbacks import OutboundCall, OutboundTracker, attempt_linkedid
from callcenter.domain.calls import FOLLOWED, Call, Pop
from callcenter.domain.wallboard import EVENTS as WALLBOARD_EVENTS
from callcenter.domain.wallboard import Board, fold
from callcenter.pbx.frames import Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.pbx.recording import read_recording
from callcenter.store import db
from tests.unit.domain.every_event import EveryEventTracker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
T0 = 1_764_500_000.0


class Caught(Listener):
    """A listener whose call-log marks and pops are kept, not written or sent."""

    def __init__(self) -> None:
        url = "sqlite://"  # never opened: nothing is written
        super().__init__(db.sessions(db.make_engine(url)), Settings(database_url=url), PopHub())
        self.marked: list[Call | OutboundCall] = []
        self.pops: list[Pop] = []

    def mark(self, call: Call | OutboundCall) -> None:
        self.marked.append(call)

    def publish(self, pop: Pop, call: Call) -> None:
        self.pops.append(pop)


@pytest_asyncio.fixture
async def listener() -> AsyncIterator[Caught]:
    caught = Caught()
    yield caught
    await caught.close()


def every_event(frames: list[Frame]) -> tuple[list[Call | OutboundCall], list[Pop]]:
    """What the listener marked and published before the fast path: every event read."""
    outbound, tracker = OutboundTracker(), EveryEventTracker()
    marked: list[Call | OutboundCall] = []
    pops: list[Pop] = []
    for frame in frames:
        event, at = frame.as_dict(), frame.received_at or datetime.now(UTC)
        if outbound.claims(event):
            if (changed := outbound.feed(event, at)) is not None:
                marked.append(changed)
            continue
        if (update := tracker.feed(event, at)) is not None:
            marked.append(update.call)
            pops += update.pops
    return marked, pops


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.jsonl")))
async def test_a_recorded_stream_is_marked_as_when_every_event_is_read(
    listener: Caught, name: str
) -> None:
    frames = read_recording(FIXTURES / f"{name}.jsonl")
    for frame in frames:
        await listener.handle(frame)
    assert (listener.marked, listener.pops) == every_event(frames)
    assert listener.events == len(frames)  # every event counted, skipped or not


def attempt(name: str, t: float, **fields: str) -> Frame:
    lid = attempt_linkedid(7, "0a1b2c3d")
    pairs = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Uniqueid": lid, "Linkedid": lid}
    return Frame.of(*{**pairs, **fields}.items(), received_at=datetime.now(UTC))


async def test_a_callback_attempts_events_get_through_whatever_their_name(
    listener: Caught,
) -> None:
    """The outbound tracker follows an attempt from its first event, whichever it is, and
    reads `Newstate`, which moves no inbound call: neither may be skipped."""
    operator = "PJSIP/op2-00000004"
    frames = [
        attempt("VarSet", 0, Channel=operator, Variable="CC_X", Value="1"),
        attempt("Newstate", 0.1, Channel=operator, ChannelState="5"),
        attempt("Newstate", 3, Channel=operator, ChannelState="6"),  # the operator answered
    ]
    assert not {f.event for f in frames} & FOLLOWED
    for frame in frames:
        await listener.handle(frame)
    assert listener.marked == every_event(frames)[0]
    assert len(listener.marked) >= 2  # started by the VarSet, moved by the Newstate
    assert listener.outbound.calls  # followed on


async def test_an_event_that_moves_no_call_is_not_read(listener: Caught) -> None:
    class Unreadable(Frame):
        def as_dict(self) -> dict[str, str]:
            raise AssertionError("read in full")

    skipped = Unreadable((("Event", "RTCPReceived"), ("Channel", "PJSIP/op1-00000001")))
    assert skipped.event not in WALLBOARD_EVENTS
    await listener.handle(skipped)
    assert listener.events == 1 and listener.marked == []


async def test_the_wallboards_events_reach_the_board_though_they_move_no_call(
    listener: Caught,
) -> None:
    """Queue member events move no call but are the wallboard's: the fast path lets them
    through to the board, which ends as the fold of every event of the stream."""
    frames = read_recording(FIXTURES / "wallboard.jsonl")
    member_events = [f for f in frames if f.event in WALLBOARD_EVENTS and f.event not in FOLLOWED]
    assert member_events  # the recording has pauses, member statuses
    expected = Board()
    for frame in frames:
        expected = fold(expected, frame.as_dict(), frame.received_at or datetime.now(UTC))
        await listener.handle(frame)
    assert listener.board.board == expected
