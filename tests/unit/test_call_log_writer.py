"""The call log's one batch writer (callcenter/call_log_writer.py), with a stand-in for the
database: a refused row is split out and set aside, the others are written; a database that
is away is waited for; shutdown reports exactly what was not written. The same writer against
a real PostgreSQL: tests/integration/test_call_log_writer_postgres.py."""

from __future__ import annotations

import asyncio
import logging
import pickle
from dataclasses import dataclass, field

import pytest
from sqlalchemy.exc import DataError, OperationalError

from callcenter.call_log_writer import BatchError, CallLogWriter, portable, unreachable


@dataclass(frozen=True)
class Entry:
    key: str
    version: int = 0


@dataclass
class Store:
    """Refuses any batch holding a key in `bad`; is away while `away` is set."""

    bad: set[str] = field(default_factory=set)
    once: set[str] = field(default_factory=set)  # refused the first time only
    away: bool = False
    rows: dict[str, Entry] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)

    async def write(self, batch: list[Entry]) -> None:
        await asyncio.sleep(0)
        self.batches.append([e.key for e in batch])
        if self.away:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        refused = [e.key for e in batch if e.key in self.bad | self.once]
        if refused and len(batch) == 1:
            self.once -= set(refused)
        if refused:
            raise DataError("INSERT", {}, ValueError(f"value too long for {refused[0]}"))
        self.rows.update({e.key: e for e in batch})


def writer(store: Store, limit: int | None = None) -> CallLogWriter[Entry]:
    return CallLogWriter(
        store.write, lambda e: e.key, name="test", gather=0, limit=limit, first_delay=0.01
    )


async def test_a_refused_row_is_set_aside_and_the_others_of_its_batch_are_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(bad={"c5"})
    log = writer(store)
    for i in range(8):
        log.add(Entry(f"c{i}"))
    with caplog.at_level(logging.WARNING):
        report = await log.close()
    assert sorted(store.rows) == ["c0", "c1", "c2", "c3", "c4", "c6", "c7"]
    assert list(report.set_aside) == ["c5"]
    assert "value too long for c5" in report.set_aside["c5"].error
    assert (report.written, report.unwritten, report.complete) == (7, [], False)
    # Split in halves until the bad row stands alone (8 -> 4+4 -> 2+2 -> 1+1); alone, it is
    # tried three times, then set aside.
    assert store.batches == [
        ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"],
        ["c0", "c1", "c2", "c3"],
        ["c4", "c5", "c6", "c7"],
        ["c4", "c5"],
        ["c4"],
        ["c5"],
        ["c5"],
        ["c5"],
        ["c6", "c7"],
    ]
    aside = [r.message for r in caplog.records if "set aside" in r.message]
    assert any("call=c5" in line and r"value too long" in line for line in aside)
    assert any("set_aside=1 unwritten=0" in r.message for r in caplog.records)


async def test_a_later_call_is_written_after_a_refused_one() -> None:
    """The bug this writer fixes: a refused row was retried forever and held every later
    call out of the log."""
    store = Store(bad={"bad"})
    log = writer(store)
    log.add(Entry("bad"))
    await log.flush()
    log.add(Entry("next"))
    await log.flush()
    assert list(store.rows) == ["next"]
    assert list(log.report.set_aside) == ["bad"]


async def test_a_row_refused_once_by_a_race_is_written_not_set_aside() -> None:
    """The routing service and the listener may insert the same call at once: one of them
    is refused (a unique key) and finds the row there on the next try."""
    store = Store(once={"c1"})
    log = writer(store)
    log.add(Entry("c0"))
    log.add(Entry("c1"))
    report = await log.close()
    assert sorted(store.rows) == ["c0", "c1"]
    assert report.complete
    assert store.batches == [["c0", "c1"], ["c0"], ["c1"], ["c1"]]


async def test_a_newer_state_of_a_set_aside_call_is_tried_again_and_clears_it() -> None:
    store = Store(bad={"c1"})
    log = writer(store)
    log.add(Entry("c1", 1))
    await log.flush()
    assert list(log.report.set_aside) == ["c1"]
    store.bad.clear()  # e.g. the call's next state fits
    log.add(Entry("c1", 2))
    report = await log.close()
    assert store.rows["c1"] == Entry("c1", 2)
    assert report.complete


async def test_a_database_away_is_waited_for_with_the_newest_states_and_nothing_is_lost() -> None:
    store = Store(away=True)
    log = writer(store)
    log.add(Entry("c1", 1))
    while len(store.batches) < 3:  # failed and retried while away
        await asyncio.sleep(0.01)
    log.add(Entry("c1", 2))  # the call moved on meanwhile
    log.add(Entry("c2", 1))
    store.away = False
    report = await log.close()
    assert store.rows == {"c1": Entry("c1", 2), "c2": Entry("c2", 1)}
    assert report.complete
    assert all(batch == ["c1"] for batch in store.batches[:3])  # never split while away


async def test_shutdown_reports_exactly_what_was_not_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(away=True)
    log = writer(store, limit=2)
    for i in range(3):
        log.add(Entry(f"c{i}"))
    while not store.batches:
        await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR):
        report = await log.close(timeout=0.2)
    assert sorted(e.key for e in report.unwritten) == ["c0", "c1", "c2"]
    assert report.written == 0 and not report.complete
    lines = [r.message for r in caplog.records if "not written" in r.message]
    assert sorted(line.split("call=")[1].split()[0] for line in lines) == ["c0", "c1", "c2"]


async def test_batches_hold_at_most_the_limit() -> None:
    store = Store()
    log = writer(store, limit=2)
    for i in range(5):
        log.add(Entry(f"c{i}"))
    await log.close()
    assert store.batches == [["c0", "c1"], ["c2", "c3"], ["c4"]]


def test_an_error_from_the_writer_process_keeps_its_judgement_through_pickling() -> None:
    away = OperationalError("INSERT", {}, ConnectionRefusedError("refused"))
    refused = DataError("INSERT", {}, ValueError("value too long"))
    for exc, judged in ((away, True), (refused, False), (ValueError("odd"), False)):
        carried = pickle.loads(pickle.dumps(portable(exc)))
        assert isinstance(carried, BatchError)
        assert unreachable(carried) is judged
        assert unreachable(exc) is judged
    assert "value too long" in str(portable(refused))
