"""The `route` FastAGI script: decide, answer Asterisk within the deadline, log the call.

Asterisk runs `AGI(agi://127.0.0.1:4573/route,${CALLERID(num)},${EXTEN})`. The decision is
the same `services.route_call` the CLI uses. Database work runs in a thread pool; if it does
not finish within the deadline (or fails), the caller is not held: the answer is `queue` with
reason `fail_open` in working hours (by the public-holiday calendar alone) and `closed` with
`fail_open` outside them. The call is logged (keyed by Linkedid, which is `agi_uniqueid` for
the inbound leg) after Asterisk has its answer, through the call log's one batch writer
(callcenter/call_log_writer.py): batches, one transaction each, retried while the database
is away, split when it refuses a row; as `callcenter agi` runs it, a process of its own does
the writing (`LogProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from callcenter.call_log_writer import CallLogWriter, Report, portable
from callcenter.domain import routing
from callcenter.domain.ami_events import caller_id_given
from callcenter.domain.calendar import Calendar
from callcenter.domain.phone import normalise, presentation_restricted
from callcenter.domain.routing import Decision
from callcenter.services import route_call
from callcenter.store import db
from callcenter.store import repositories as repo
from dialplan import snapshot
from dialplan.server import AgiChannel
from dialplan.snapshot import RoutingSnapshot

log = logging.getLogger(__name__)

BATCH = 200
GATHER = 0.5  # seconds the call-log writer waits for more entries before writing


SWITCH_INTERVAL = 0.0005  # s; Python's default is 0.005


def prefer_the_loop() -> None:
    """A thread that holds the interpreter lock (the snapshot's reader, reading 100,000
    contracts for a second or two after an import) gives it up to the event loop after at
    most this long, not Python's default 5 ms, each time the loop wakes for a caller: a
    request wakes the loop several times. Process-wide; `callcenter agi` sets it."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def fail_open(caller_id: str, now: datetime, region: str) -> Decision:
    """The core's fail-open answer (domain/routing.py), by the public-holiday calendar
    alone: the store that knows the closures is what did not answer."""
    return routing.fail_open(normalise(caller_id, region), now, Calendar())


def channel_variables(decision: Decision, call_id: str) -> dict[str, str]:
    """The routing contract of DESIGN.md: what the dialplan branches on."""
    return {
        "CC_ROUTE": decision.route.value,
        "CC_REASON": decision.reason.value,
        "CC_CONTRACT": decision.contract or "",
        "CC_CALL": call_id,
        "CC_NEXT_OPEN": decision.next_open.isoformat() if decision.next_open else "",
    }


class RoutingService:
    """Decides from an in-memory snapshot of the routing inputs (dialplan/snapshot.py) kept
    current by `follow_changes`; while the snapshot is missing or stale (the store could
    not be read for `stale_after` seconds) it asks the store per call, within the deadline."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        region: str = "PL",
        deadline: float = 1.5,
        workers: int = 4,
        poll: float = 0.25,
        stale_after: float = 2.0,
        log_url: str | None = None,
    ) -> None:
        """With `log_url`, the call log is written by a process of its own (see
        `LogProcess`); without, by a thread of this one."""
        self.sessions = sessions
        self.log_process = LogProcess(log_url) if log_url else None
        self.region = region
        self.deadline = deadline
        self.poll = poll
        self.stale_after = stale_after
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="routing-db")
        self.writer: CallLogWriter[repo.CallDecision] = CallLogWriter(
            self._write, _linkedid, name="routing", gather=GATHER, limit=BATCH
        )
        self.snapshot: RoutingSnapshot | None = None
        self.fresh_at = float("-inf")  # time.monotonic() of the last successful read

    # --- the in-memory snapshot --------------------------------------------------------------

    def _refreshed(self) -> RoutingSnapshot:
        with self.sessions() as session:
            if self.snapshot is None:
                return snapshot.load(session)
            return snapshot.refresh(self.snapshot, session)

    async def follow_changes(self, stop: asyncio.Event) -> None:
        """Load the snapshot, then follow the store's routing changes until `stop`."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                # No collector pass while the reading thread builds: a full pass would walk
                # the half-built snapshot (hundreds of thousands of objects) holding the
                # interpreter lock while callers wait.
                gc.disable()
                try:
                    fresh = await loop.run_in_executor(self.pool, self._refreshed)
                finally:
                    gc.enable()
                if fresh is not self.snapshot:
                    first = self.snapshot is None
                    self.snapshot = fresh
                    # The snapshot is long-lived: frozen, the collector skips it (a full
                    # pass walked it for 60-90 ms with 10,000 contracts); a replaced one
                    # has no cycles and is freed by reference counting all the same.
                    # After a patch (or before the first call) a collection first leaves
                    # no garbage frozen: it walks only what was not frozen, a few ms. After
                    # a whole reload it would walk the new snapshot while callers wait, so
                    # it is frozen as it is (with the reading's own little garbage).
                    if first or not fresh.whole:
                        gc.collect()
                    gc.freeze()
                self.fresh_at = time.monotonic()
            except Exception as exc:
                log.warning("routing snapshot not refreshed error=%r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll)

    def _trusted(self) -> RoutingSnapshot | None:
        if self.snapshot is None or time.monotonic() - self.fresh_at > self.stale_after:
            return None
        return self.snapshot

    # --- deciding ----------------------------------------------------------------------------

    def _decide(self, caller_id: str, now: datetime, presented: bool) -> Decision:
        with self.sessions() as session:
            return route_call(session, caller_id, now, self.region, presented)

    async def decide(
        self, caller_id: str, now: datetime, presented: bool = True
    ) -> tuple[Decision, float]:
        started = time.perf_counter()
        memory = self._trusted()
        if memory is not None:
            try:
                decision = memory.decide(caller_id, now, self.region, presented)
                return decision, (time.perf_counter() - started) * 1000
            except Exception:
                log.exception("routing from memory failed caller=%r: asking the store", caller_id)
        loop = asyncio.get_running_loop()
        try:
            decision = await asyncio.wait_for(
                loop.run_in_executor(self.pool, self._decide, caller_id, now, presented),
                self.deadline,
            )
        except TimeoutError:
            log.error("routing past deadline=%.2fs caller=%r: fail_open", self.deadline, caller_id)
            decision = fail_open(caller_id, now, self.region)
        except Exception:
            log.exception("routing failed caller=%r: fail_open", caller_id)
            decision = fail_open(caller_id, now, self.region)
        return decision, (time.perf_counter() - started) * 1000

    async def handle(self, channel: AgiChannel) -> None:
        request = channel.request
        arrived = datetime.now(UTC)
        args = request.args
        caller_id = args[0] if args else request.get("agi_callerid")
        dialled = args[1] if len(args) > 1 else request.get("agi_extension")
        linkedid = request.get("agi_uniqueid") or f"agi-{time.time_ns()}"
        presented = not presentation_restricted(request.get("agi_callingpres", "0"))
        decision, elapsed = await self.decide(caller_id, arrived, presented)
        log.info(
            "decision call=%s caller=%r route=%s reason=%s contract=%s ms=%.1f",
            linkedid,
            caller_id,
            decision.route,
            decision.reason,
            decision.contract,
            elapsed,
        )
        record = repo.CallDecision(
            linkedid=linkedid,
            caller_raw=caller_id,
            caller_name=caller_id_given(request.get("agi_calleridname")),
            caller_e164=decision.number,
            dialled=dialled,
            route=decision.route.value,
            reason=decision.reason.value,
            contract=decision.contract,
            contracts=decision.contracts,
            covered=decision.covered,
            arrived_at=arrived,
            decided_at=datetime.now(UTC),
            decision_ms=elapsed,
            rule=decision.rule,
            why=decision.why,
        )
        try:
            await channel.set_variables(channel_variables(decision, linkedid), linkedid)
        finally:
            # Logged whether or not Asterisk took the answer: the call happened.
            self.record(record)

    def record(self, call: repo.CallDecision) -> None:
        self.writer.add(call)

    async def _write(self, batch: list[repo.CallDecision]) -> None:
        if self.log_process is not None:
            await self.log_process.write(batch)
        else:
            await asyncio.get_running_loop().run_in_executor(
                self.pool, write_decisions, self.sessions, batch
            )

    async def drain(self, timeout: float = 30.0) -> Report[repo.CallDecision]:
        """Write what is pending (on shutdown); the report says exactly what was not
        written, and each such entry is logged in full."""
        report = await self.writer.close(timeout)
        self.pool.shutdown(wait=True)
        if self.log_process is not None:
            self.log_process.close()
        return report


class LogProcess:
    """The call-log writer in a process of its own.

    Writing a batch is a few milliseconds of Python (SQLAlchemy); in a thread it holds the
    interpreter lock while callers wait for their answers, and that showed in the tail of
    the answer time. A spawned process writes on the other core instead; this one only
    pickles the batch. If the process dies, the batch fails, the writer's retry starts a new
    process and writes it again (record_decisions is idempotent)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_log,
            initargs=(self.url,),
        )

    async def write(self, batch: list[repo.CallDecision]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.pool, _write_decisions, batch)
        except BrokenProcessPool:
            log.warning("call log process gone: starting another")
            self.pool.shutdown(wait=False)
            self.pool = self._start()
            raise

    def close(self) -> None:
        self.pool.shutdown(wait=True)


_log_sessions: sessionmaker[Session] | None = None


LOG_NICENESS = 10  # the call-log process yields the CPU to the service (2 cores, shared)


def _open_log(url: str) -> None:
    """In the call-log process: its own engine, and a lower priority: its batches can wait
    a few milliseconds, callers should not wait for them."""
    global _log_sessions  # noqa: PLW0603 - one per process, made by the pool's initializer
    with contextlib.suppress(OSError):
        os.nice(LOG_NICENESS)
    _log_sessions = db.sessions(db.make_engine(url))


def _write_decisions(calls: list[repo.CallDecision]) -> None:
    """In the call-log process. Its error goes back as a BatchError: a driver's exception
    may not survive pickling, and the writer must know whether the database was away."""
    assert _log_sessions is not None, "the pool's initializer opens the log"
    try:
        write_decisions(_log_sessions, calls)
    except Exception as exc:
        raise portable(exc) from None


def _linkedid(call: repo.CallDecision) -> str:
    return call.linkedid


def write_decisions(sessions: sessionmaker[Session], calls: list[repo.CallDecision]) -> None:
    """One transaction for a batch of the call log (in a thread, or the log's process)."""
    with db.transaction(sessions) as session:
        repo.record_decisions(session, calls)
