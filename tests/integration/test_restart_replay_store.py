"""A restart of our own process loses nothing, and a final call is never reopened: recorded
AMI streams (tests/fixtures/ami/*.jsonl) replayed through the whole listener into a real
store. Each stream is cut where a restart hurts; the first part goes to one listener, which
is then dropped, the rest to a fresh one that picks the call up from the log (as
`callcenter listen` does at start). The call-log row must be exactly the one an
uninterrupted replay writes. The same restarts with real calls through Asterisk are in
tests/integration/test_restart_asterisk.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from callcenter.config import Settings
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.frames import Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.pbx.recording import read_recording
from callcenter.store import call_log, db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallbackRow, CallRow, TicketRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
# The callers of the recordings are covered customers: a missed call becomes a callback.
CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "L-1,Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://l1.example.pl,"
    "+48601000001;+48601000005;+48601000009,l1@example.pl,2025-12-20T10:00:00,\n"
)


def caller_leg(f: Frame) -> bool:
    return bool(f.get("Uniqueid")) and f.get("Uniqueid") == f.get("Linkedid")


def named(event: str, user_event: str | None = None) -> Callable[[Frame], bool]:
    return lambda f: f.event == event and (user_event is None or f.get("UserEvent") == user_event)


@dataclass(frozen=True)
class Cut:
    """Where the listener stops: right after the first frame `after` matches."""

    fixture: str
    after: Callable[[Frame], bool]
    outcome: str


CUTS = {
    # killed mid-talk: answered, op1 known, the caller still talking
    "mid_talk": Cut("answered", lambda f: named("BridgeEnter")(f) and caller_leg(f), "answered"),
    # restarted while the caller waits in the queue, op1's phone ringing
    "waiting_in_queue": Cut("answered", named("AgentCalled"), "answered"),
    # the caller hung up in the queue; their channel's Hangup comes after the restart
    "abandoned_before_hangup": Cut("abandoned", named("QueueCallerAbandon"), "abandoned"),
    # the queue gave up (timeout), the caller hears the timeout prompt: restarted then
    "queue_timeout_prompt": Cut(
        "unanswered", named("UserEvent", "CallcenterQueueEnd"), "unanswered"
    ),
}


class Store:
    """A migrated database with the contracts, and listeners on it."""

    def __init__(self, url: str, log_dir: Path) -> None:
        self.engine: Engine = db.make_engine(url)
        migrate.upgrade(self.engine)
        self.sessions = db.sessions(self.engine)
        with db.transaction(self.sessions) as s:
            repo.import_contracts(s, parse_contracts(CSV), datetime.now(UTC))
        self.settings = Settings(database_url=url, asterisk_log_dir=str(log_dir))

    def listener(self) -> Listener:
        return Listener(self.sessions, self.settings, PopHub())

    def row(self, linkedid: str) -> dict[str, Any]:
        """The call's entry: every column but the id, its rings, what follows it."""
        with self.sessions() as s:
            row = call_log.call_row(s, linkedid)
            assert row is not None
            values = {c.key: getattr(row, c.key) for c in CallRow.__table__.columns}
            values.pop("id")
            values["rings"] = [
                (r.position, r.endpoint, r.started_at, r.seconds, r.result) for r in row.rings
            ]
            tickets = s.scalars(select(TicketRow.status).where(TicketRow.call_id == row.id))
            values["tickets"] = list(tickets)
            values["callbacks"] = int(s.scalar(select(func.count()).select_from(CallbackRow)) or 0)
            return values

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    made: list[Store] = []

    def make(name: str) -> Store:
        store = Store(f"sqlite:///{tmp_path / name}.db", tmp_path / "no-asterisk-logs")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


async def replay(listener: Listener, frames: list[Frame]) -> None:
    for f in frames:
        await listener.handle(f)
    await listener.flush()


def drop(listener: Listener) -> None:
    """Gone as a killed process is: nothing of it runs again (its writes were done)."""
    listener.db.shutdown(wait=True)
    listener.reads.shutdown(wait=True)


def stamp(frames: list[Frame], match: Callable[[Frame], bool]) -> datetime:
    found = next(f for f in frames if match(f))
    return datetime.fromtimestamp(float(found.get("Timestamp") or 0), UTC)


@pytest.mark.parametrize("case", list(CUTS))
async def test_a_restart_at_the_worst_moment_writes_the_same_row(
    case: str, stores: Callable[[str], Store]
) -> None:
    cut = CUTS[case]
    frames = read_recording(FIXTURES / f"{cut.fixture}.jsonl")
    at = next(i for i, f in enumerate(frames) if cut.after(f)) + 1
    linkedid = next(f.get("Linkedid") for f in frames if f.event == "Newchannel")
    assert linkedid is not None

    whole = stores("whole")
    once = whole.listener()
    await replay(once, frames)
    await once.close()
    expected = whole.row(linkedid)

    restarted = stores("restarted")
    first = restarted.listener()
    await replay(first, frames[:at])
    drop(first)
    before = restarted.row(linkedid)
    assert before["ended_at"] is None and before["outcome"] is None
    second = restarted.listener()
    await second.adopt_unfinished()
    assert list(second.tracker.calls) == [linkedid]
    await replay(second, frames[at:])
    await second.close()
    after = restarted.row(linkedid)

    assert after == expected
    assert after["outcome"] == cut.outcome
    assert after["state"] == "ended"
    hangup = stamp(frames, lambda f: named("Hangup")(f) and caller_leg(f))
    assert after["ended_at"] == hangup
    if cut.outcome == "answered":
        assert after["operator"] == "op1"
        assert after["answered_at"] == stamp(frames, named("AgentConnect"))
        assert after["tickets"] == ["draft"] and after["callbacks"] == 0
        assert [(r[1], r[4]) for r in after["rings"]] == [
            ("op1", "answered"), ("op2", "cancelled"), ("op3", "busy")]  # fmt: skip
    else:
        assert after["operator"] is None and after["tickets"] == []
        assert after["callbacks"] == 1 and after["callback_id"] is not None
    if case == "abandoned_before_hangup":  # the fact came before the restart, and was kept
        assert before["queue_abandoned"] is True
        assert after["queue_abandoned"] is True and after["queue_status"] == ""
        assert after["queue_left_at"] == stamp(frames, named("QueueCallerAbandon"))
    if case == "queue_timeout_prompt":
        assert before["queue_status"] == "TIMEOUT"
        assert (after["queue_status"], after["queue_abandoned"]) == ("TIMEOUT", False)
        assert after["queue_left_at"] == stamp(frames, named("QueueCallerAbandon"))
    if case == "mid_talk":
        assert (before["state"], before["operator"]) == ("answered", "op1")


# --- a final call is never reopened by older facts -----------------------------------------


class NoChannels:
    """An AMI client whose Asterisk has no live channel (the call is long over), and no
    queue (the wallboard's QueueStatus)."""

    async def action(self, action: dict[str, str]) -> Any:
        return SimpleNamespace(ok=True, items=[])


async def test_replayed_events_of_an_answered_call_never_reopen_it(
    database_url: str, tmp_path: Path
) -> None:
    """An answered call is logged; a replayed Newchannel and decision reach the same
    listener, then a fresh one (restarted: it remembers nothing), whose resync finds the
    call's channels gone. The entry stays answered; no callback appears."""
    store = Store(database_url, tmp_path / "no-asterisk-logs")
    try:
        frames = read_recording(FIXTURES / "answered.jsonl")
        linkedid = next(f.get("Linkedid") for f in frames if f.event == "Newchannel")
        assert linkedid is not None
        again = [
            f for f in frames
            if caller_leg(f) and (f.event == "Newchannel" or f.get("UserEvent") == "CallcenterDecision")
        ]  # fmt: skip
        assert len(again) == 2

        listener = store.listener()
        await replay(listener, frames)
        logged = store.row(linkedid)
        assert (logged["outcome"], logged["tickets"], logged["callbacks"]) == (
            "answered", ["draft"], 0)  # fmt: skip
        await replay(listener, again)
        assert listener.tracker.calls == {}
        await listener.close()

        restarted = store.listener()
        await restarted.adopt_unfinished()
        await replay(restarted, again)
        assert list(restarted.tracker.calls) == [linkedid]  # it cannot know, the log does
        assert store.row(linkedid) == logged
        restarted.client = NoChannels()  # type: ignore[assignment]
        await restarted.resync()
        await restarted.flush()
        assert restarted.tracker.calls == {}
        await restarted.close()
        assert store.row(linkedid) == logged
    finally:
        store.close()


def test_the_store_keeps_a_final_entry_as_it_is(database_url: str, tmp_path: Path) -> None:
    """save_calls leaves a final entry (and any later state) alone and leaves it out of the
    rows it returns, so nothing follows it again: no false callback."""
    from datetime import timedelta

    from callcenter.domain.calls import Call, CallState, Outcome, QueueFacts

    store = Store(database_url, tmp_path / "logs")
    t = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    lid = "1764000000.1"
    answered = Call(
        lid, CallState.ENDED, t, caller_raw="+48601000001", route="queue", reason="covered",
        contract="L-1", queued=t, answered=t + timedelta(seconds=5), ended=t + timedelta(seconds=60),
        operator="op1", queue=QueueFacts(left=t + timedelta(seconds=5)),
        outcome=Outcome.ANSWERED,
    )  # fmt: skip
    ghost = Call(lid, CallState.ENDED, t + timedelta(seconds=90), caller_raw="+48601000001",
                 route="queue", reason="covered", ended=t + timedelta(seconds=95),
                 outcome=Outcome.ABANDONED)  # fmt: skip
    reopened = Call(lid, CallState.DECIDED, t, route="queue", reason="covered")
    try:
        window = timedelta(hours=2)
        with db.transaction(store.sessions) as s:
            rows = call_log.save_calls(s, [answered])
            call_log.follow_ups(s, [answered], rows, window)
        logged = store.row(lid)
        for older in (reopened, ghost):
            with db.transaction(store.sessions) as s:
                rows = call_log.save_calls(s, [older])
                assert rows == {}
                call_log.follow_ups(s, [older], rows, window)
            assert store.row(lid) == logged
        assert (logged["outcome"], logged["callbacks"], logged["tickets"]) == (
            "answered", 0, ["draft"])  # fmt: skip
        with store.sessions() as s:
            row = call_log.call_row(s, lid)
            assert row is not None
            assert call_log.load_call(row) == answered  # the one mapping, both ways
    finally:
        store.close()
