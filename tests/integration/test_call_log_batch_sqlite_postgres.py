"""The call log's batch write (store/call_log.py save_calls): an entry found is updated by
statements for the batch, not through the session's unit of work, and its rings replaced
likewise. The rows it returns, the log read again, and what the routing service wrote must
all agree, on a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.calls import Call, CallState, Outcome, QueueFacts, Ring, RingResult
from callcenter.store import call_log, db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallRingRow, CallRow

T = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LID = "1764000000.1"


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    yield db.sessions(engine)
    engine.dispose()


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def steps() -> list[Call]:
    """One call as the listener sees it: each step a later state, rings added and finished."""
    arrived = Call(LID, CallState.ARRIVED, at(0), caller_raw="+48601000001", caller_name="Zażółć")
    decided = replace(arrived, state=CallState.DECIDED, route="queue", reason="covered")
    queued = replace(decided, state=CallState.QUEUED, queued=at(2),
                     rings=(Ring("op1", at(3)), Ring("op2", at(3))))  # fmt: skip
    answered = replace(
        queued, state=CallState.ANSWERED, answered=at(6), operator="op1",
        rings=(Ring("op1", at(3), 3.0, RingResult.ANSWERED),
               Ring("op2", at(3), 3.0, RingResult.CANCELLED)),
        queue=QueueFacts(left=at(6)),
    )  # fmt: skip
    ended = replace(answered, state=CallState.ENDED, ended=at(60), outcome=Outcome.ANSWERED,
                    hangup_cause="Normal Clearing")  # fmt: skip
    return [arrived, decided, queued, answered, ended]


def test_each_step_in_one_session_reads_back_as_the_call(
    sessions: sessionmaker[Session],
) -> None:
    with db.transaction(sessions) as s:
        for call in steps():
            rows = call_log.save_calls(s, [call])
            assert call_log.load_call(rows[LID]) == call  # the row returned holds it
            fresh = s.scalars(select(CallRow).where(CallRow.linkedid == LID)).one()
            assert call_log.load_call(fresh) == call
    for call in [replace(c, linkedid="1764000000.2") for c in steps()]:  # a transaction each
        with db.transaction(sessions) as s:
            call_log.save_calls(s, [call])
        with sessions() as s:
            row = call_log.call_row(s, call.linkedid)
            assert row is not None and call_log.load_call(row) == call
            rings = s.scalar(select(func.count()).where(CallRingRow.call_id == row.id))
            assert rings == len(call.rings)  # replaced, never added twice


def test_a_batch_of_calls_in_different_steps_is_written_together(
    sessions: sessionmaker[Session],
) -> None:
    other = [replace(c, linkedid="1764000000.9", caller_raw="+48601000002") for c in steps()]
    with db.transaction(sessions) as s:
        call_log.save_calls(s, [steps()[0], other[2]])
    with db.transaction(sessions) as s:
        call_log.save_calls(s, [steps()[3], other[4]])  # rings changed for both, one new
    with sessions() as s:
        loaded = {r.linkedid: call_log.load_call(r) for r in s.scalars(select(CallRow))}
    assert loaded == {LID: steps()[3], "1764000000.9": other[4]}


def test_what_the_routing_service_wrote_is_kept(sessions: sessionmaker[Session]) -> None:
    """The decision's own columns are no call value: the listener's update leaves them."""
    with db.transaction(sessions) as s:
        repo.record_decisions(s, [repo.CallDecision(
            linkedid=LID, caller_raw="+48601000001", caller_name="", caller_e164="+48601000001",
            dialled="800", route="queue", reason="covered", contract="R-1",
            contracts=("R-1", "R-2"), covered=True, arrived_at=at(0), decided_at=at(0.4),
            decision_ms=1.5,
        )])  # fmt: skip
    for call in steps():
        with db.transaction(sessions) as s:
            call_log.save_calls(s, [call])
    with sessions() as s:
        row = call_log.call_row(s, LID)
        assert row is not None
        assert (row.covered, row.decided_at, row.decision_ms, list(row.contracts)) == (
            True, at(0.4), 1.5, ["R-1", "R-2"])  # fmt: skip
        assert (row.contract, row.dialled, row.caller_name) == ("R-1", "800", "Zażółć")
        assert (row.state, row.operator, row.outcome) == ("ended", "op1", "answered")
