"""The call log's filtered keyset pages and streamed export, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, text

from callcenter.store import call_queries as q
from callcenter.store import db, migrate
from callcenter.store.models import CallRow

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
OUTCOMES = ("answered", "abandoned", "unanswered", "rejected")


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    rows = []
    for i in range(120):
        rows.append(
            {
                "linkedid": f"L{i:04d}",
                # pairs of calls share an arrival second: the keyset must break the tie by id
                "arrived_at": T0 + timedelta(seconds=(i // 2) * 60),
                "caller_e164": "+48601234567" if i % 3 == 0 else "+48602345678",
                "route": "queue" if i % 4 != 3 else "closed",
                "reason": "covered" if i % 4 != 3 else "outside_hours",
                "outcome": OUTCOMES[i % 4],
                "operator": ("op1", "op2")[i % 2] if i % 4 == 0 else None,
                "contract": "K-1" if i % 5 == 0 else "K-2",
                "state": "ended",
                "direction": "callback" if i % 6 == 5 else "inbound",
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(CallRow), rows)
    yield engine  # type: ignore[misc]
    engine.dispose()


def _all_pages(engine: Engine, f: q.CallFilter, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    with db.sessions(engine)() as session:
        for _ in range(1000):  # bounded: 120 calls
            rows, after = q.page(session, f, after, size)
            seen += [r.linkedid for r in rows]
            if after is None:
                return seen
    raise AssertionError("paging did not end")


def test_keyset_pages_give_every_call_once_newest_first(engine: Engine) -> None:
    expected = [f"L{i:04d}" for i in sorted(range(120), key=lambda i: (i // 2, i), reverse=True)]
    for size in (1, 7, 50, 120, 500):
        assert _all_pages(engine, q.CallFilter(), size) == expected


def test_filters_combine(engine: Engine) -> None:
    f = q.CallFilter(outcome="answered", operator="op1")
    got = _all_pages(engine, f, 10)
    assert got == [f"L{i:04d}" for i in reversed(range(120)) if i % 4 == 0 and i % 2 == 0]
    f = q.CallFilter(
        contract="K-1",
        number="+48601234567",
        since=T0 + timedelta(minutes=10),
        until=T0 + timedelta(minutes=40),
    )
    got = _all_pages(engine, f, 3)
    assert got == [
        f"L{i:04d}" for i in reversed(range(120)) if i % 5 == 0 and i % 3 == 0 and 20 <= i < 80
    ]
    assert _all_pages(engine, q.CallFilter(route="closed", reason="outside_hours"), 25) == [
        f"L{i:04d}" for i in reversed(range(120)) if i % 4 == 3
    ]
    assert _all_pages(engine, q.CallFilter(outcome="failed"), 5) == []


def test_direction_and_a_reason_alone_filter_too(engine: Engine) -> None:
    assert _all_pages(engine, q.CallFilter(direction="callback"), 4) == [
        f"L{i:04d}" for i in reversed(range(120)) if i % 6 == 5
    ]
    f = q.CallFilter(direction="inbound", reason="outside_hours")
    assert _all_pages(engine, f, 6) == [
        f"L{i:04d}" for i in reversed(range(120)) if i % 6 != 5 and i % 4 == 3
    ]


def test_stream_reads_in_batches_and_gives_everything(engine: Engine) -> None:
    with db.sessions(engine)() as session:
        ids = [r.linkedid for r in q.stream(session, q.CallFilter(), batch=7)]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert ids == _all_pages(engine, q.CallFilter(), 120)


def test_cursor_round_trip_and_junk() -> None:
    cursor = q.Cursor(T0 + timedelta(microseconds=123), 42)
    assert q.Cursor.decode(cursor.encode()) == cursor
    for junk in ("", "abc", "1.", ".5", "1.2.3", "9" * 40 + ".1", "1;DROP TABLE calls.1"):
        with pytest.raises(ValueError, match="not a page cursor"):
            q.Cursor.decode(junk)


def test_sqlite_pages_use_the_keyset_indexes(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        plans = {
            "all": "SELECT id FROM calls ORDER BY arrived_at DESC, id DESC LIMIT 51",
            "outcome": "SELECT id FROM calls WHERE outcome = 'answered' "
            "ORDER BY arrived_at DESC, id DESC LIMIT 51",
            "contract": "SELECT id FROM calls WHERE contract = 'K-1' "
            "ORDER BY arrived_at DESC, id DESC LIMIT 51",
            "direction": "SELECT id FROM calls WHERE direction = 'callback' "
            "ORDER BY arrived_at DESC, id DESC LIMIT 51",
            "reason": "SELECT id FROM calls WHERE reason = 'weekend' "
            "ORDER BY arrived_at DESC, id DESC LIMIT 51",
        }
        for name, sql in plans.items():
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            )
            assert "USING INDEX ix_calls_" in plan or "USING COVERING INDEX" in plan, (name, plan)
            assert "TEMP B-TREE" not in plan, (name, plan)
    engine.dispose()


def test_a_calls_entry_and_timeline_read_back_from_the_store(database_url: str) -> None:
    """call_log_view.call_detail on each database: the call, its rings, the callback it made
    with an attempt, and the timeline built from them."""
    from callcenter.call_log_view import call_detail
    from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRingRow

    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    try:
        with db.transaction(db.sessions(engine)) as s:
            cb = CallbackRow(caller_e164="+48601234567", contract="K-1", first_call_at=T0,
                             last_call_at=T0, due_at=T0 + timedelta(days=1),
                             created_at=T0 + timedelta(seconds=30))  # fmt: skip
            s.add(cb)
            s.flush()
            call = CallRow(
                linkedid="T1", caller_e164="+48601234567", route="queue", reason="covered",
                rule="queue", why="K-1 covers calls", contract="K-1", arrived_at=T0,
                decided_at=T0, queued_at=T0 + timedelta(seconds=2),
                ended_at=T0 + timedelta(seconds=30), outcome="unanswered", queue_status="TIMEOUT",
                queue_left_at=T0 + timedelta(seconds=29), state="ended", callback_id=cb.id,
                rings=[CallRingRow(position=0, endpoint="op1", seconds=15.0, result="no_answer",
                                   started_at=T0 + timedelta(seconds=2))],
            )  # fmt: skip
            s.add(call)
            s.add(CallbackAttemptRow(callback_id=cb.id, operator="op2", linkedid="cb-1",
                                     started_at=T0 + timedelta(hours=1), result=None))  # fmt: skip
            s.flush()
            call_id = call.id
        with db.sessions(engine)() as s:
            entry = call_detail(s, call_id, lambda t: {"id": t.id})
            assert call_detail(s, call_id + 1, lambda t: {"id": t.id}) is None
        assert entry is not None
        assert [step["kind"] for step in entry["timeline"]] == [
            "arrived", "decided", "queued", "rung", "timeout", "ended", "callback",
            "callback_attempt",
        ]  # fmt: skip
        assert (entry["rule"], entry["why"]) == ("queue", "K-1 covers calls")
        assert entry["timeline"][4]["seconds"] == 27.0
        assert entry["callback_entry"]["attempts"][0]["result"] is None  # under way
        assert entry["ticket"] is None
    finally:
        engine.dispose()
