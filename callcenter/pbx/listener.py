"""The AMI listener: Asterisk's events in; the call log, what follows a call and the screen
pops out.

One consumer (the AmiClient's) feeds every event, in order, to the pure `Tracker`. A changed
call is marked dirty; the call log's one batch writer (callcenter/call_log_writer.py) saves
the dirty calls in batches on one database thread, in order, with what follows an ended call
(callback or ticket draft) in the same transaction: a batch the database refuses is split,
a row it still refuses is set aside and reported. Pops are published as the tracker emits
them, the ringing ones with the caller's contract summary (read in batches: the calls that
start ringing while one read runs share the next); a call's later pops wait for its ringing
ones, so each screen gets a call's pops in the order of Asterisk's events. On every
(re)login `resync` asks Asterisk which channels are live and closes, from queue_log and the
CDRs, the calls that ended unseen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter.call_log_writer import CallLogWriter, Report
from callcenter.config import Settings
from callcenter.domain.ami_events import caller_id_given
from callcenter.domain.calendar import Calendar
from callcenter.domain.callbacks import ATTEMPT_PREFIX, OutboundCall, OutboundTracker
from callcenter.domain.calls import FOLLOWED, Call, CallState, Pop, PopKind, Tracker
from callcenter.domain.reconcile import (
    LiveChannel,
    adopt_live,
    close_from_records,
    parse_cdr_csv,
    parse_duration,
    parse_queue_log,
)
from callcenter.domain.wallboard import EVENTS as WALLBOARD_EVENTS
from callcenter.pbx.ami import AmiClient, AmiError, ConnectionEvent
from callcenter.pbx.frames import Frame
from callcenter.pbx.popinfo import pop_payloads
from callcenter.pbx.pops import PopHub
from callcenter.pbx.wallboard import LiveBoard
from callcenter.services import route_call
from callcenter.store import call_log, db
from callcenter.store.callbacks import save_outbound

log = logging.getLogger(__name__)

GATHER = 0.05  # seconds the writer waits for more changes before a batch
READ_AHEAD_S = 1.0  # after a queue decision, when its pops' contract summary is read ahead


class Listener:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        hub: PopHub,
        board: LiveBoard | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.hub = hub
        self.board = board if board is not None else LiveBoard(hub)  # the live wallboard
        self.tracker = Tracker()
        self.outbound = OutboundTracker()  # the callback attempts' originated calls
        self.writer: CallLogWriter[Call | OutboundCall] = CallLogWriter(
            self._write, _linkedid, name="listener", gather=GATHER
        )
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="call-log")
        self.reads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pop-info")
        self.client: AmiClient | None = None
        self.events = 0
        self._pop_infos: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pop_waiting: dict[str, tuple[Call, asyncio.Future[dict[str, Any]]]] = {}
        self._pop_reader: asyncio.Task[None] | None = None
        # Contract summaries read ahead, while a queued caller hears the greeting.
        self._ahead: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ahead_timers: dict[str, asyncio.TimerHandle] = {}

    # --- events ----------------------------------------------------------------------------

    async def handle(self, frame: Frame) -> None:
        """The AmiClient's one consumer: every event, in arrival order."""
        self.events += 1
        followed = frame.event in FOLLOWED or _of_attempt(frame)
        if not followed and frame.event not in WALLBOARD_EVENTS:
            return  # moves no call and no wallboard (most of what Asterisk sends): not read
        event = frame.as_dict()
        received = frame.received_at or datetime.now(UTC)
        self.board.feed(event, received)
        if not followed:
            return  # a queue member's or a queue's event: the wallboard's only
        if self.outbound.claims(event):
            if (outbound := self.outbound.feed(event, received)) is not None:
                self.mark(outbound)
            return
        update = self.tracker.feed(event, received)
        if update is None:
            return
        self.mark(update.call)
        self._read_ahead(update.call)
        for pop in update.pops:
            self.publish(pop, update.call)

    def _read_ahead(self, call: Call) -> None:
        """A caller sent to the queue hears the greeting for several seconds before the
        operators' phones ring: read the contract summary for their pops meanwhile, so the
        ringing pop waits for no database. The read starts READ_AHEAD_S after the decision
        (the routing service logs it within half a second: the read needs that row)."""
        lid = call.linkedid
        if call.state is CallState.ENDED:
            self._drop_ahead(lid)
            return
        if (
            call.state is not CallState.DECIDED
            or call.route != "queue"
            or lid in self._ahead_timers
            or lid in self._ahead
            or not self.hub.watched()
        ):
            return

        def start() -> None:
            self._ahead_timers.pop(lid, None)
            self._ahead[lid] = self._ask_pop_info(call)

        self._ahead_timers[lid] = asyncio.get_running_loop().call_later(READ_AHEAD_S, start)

    def _drop_ahead(self, linkedid: str) -> None:
        if (timer := self._ahead_timers.pop(linkedid, None)) is not None:
            timer.cancel()
        self._ahead.pop(linkedid, None)

    def mark(self, call: Call | OutboundCall) -> None:
        self.writer.add(call)

    @property
    def written(self) -> int:
        return self.writer.written

    def publish(self, pop: Pop, call: Call) -> None:
        if not self.hub.wanted(pop.endpoint):
            return  # nobody watches this operator's screen: no contract read for nothing
        base: dict[str, Any] = {
            "kind": pop.kind.value,
            "endpoint": pop.endpoint,
            "linkedid": pop.linkedid,
            "at": pop.at.isoformat(),
            "caller": call.caller_raw,
            "caller_name": call.caller_name,
            "operator": call.operator,  # who took it (on `taken`, `answered`, `ended`)
        }
        pending = self._pop_infos.get(call.linkedid)
        if pop.kind is not PopKind.RINGING:
            if pending is None:
                self.hub.publish(base)
            else:  # after the call's ringing pops, which wait for the contract: in order
                pending.add_done_callback(lambda _: self.hub.publish(base))
            return

        # Every operator the queue rings for this call gets the same contract summary:
        # read it once per call. (A future's callbacks run in the order they were added,
        # so the call's pops reach the hub in the order Asterisk's events came.)
        if pending is None:
            ahead = self._ahead.pop(call.linkedid, None)
            self._drop_ahead(call.linkedid)  # not read ahead in time: read it now
            pending = ahead if ahead is not None else self._ask_pop_info(call)
            self._pop_infos[call.linkedid] = pending
            pending.add_done_callback(lambda _: self._pop_infos.pop(call.linkedid, None))

        def with_contract(info: asyncio.Future[dict[str, Any]]) -> None:
            found = {} if info.cancelled() else info.result()
            self.hub.publish({**base, **found})

        pending.add_done_callback(with_contract)

    def _ask_pop_info(self, call: Call) -> asyncio.Future[dict[str, Any]]:
        """The contract summary for a ringing call's pops. The calls that start ringing
        while one read is under way are read together by the next: one query for their
        decisions, one summary per contract."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pop_waiting[call.linkedid] = (call, future)
        if self._pop_reader is None or self._pop_reader.done():
            self._pop_reader = asyncio.create_task(self._read_pop_infos(), name="pop-info")
        return future

    async def _read_pop_infos(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pop_waiting:
            await asyncio.sleep(0)  # the other calls of the same read from Asterisk ask too
            batch, self._pop_waiting = self._pop_waiting, {}
            calls = [call for call, _ in batch.values()]
            try:
                found = await loop.run_in_executor(self.reads, self._pop_infos_read, calls)
            except Exception:
                log.exception("pop info failed calls=%s", ",".join(batch))
                found = {}  # the pops still go out, with the call but no contract
            for linkedid, (_, future) in batch.items():
                if not future.done():
                    future.set_result(found.get(linkedid, {}))

    def _pop_infos_read(self, calls: list[Call]) -> dict[str, dict[str, Any]]:
        with self.sessions() as session:
            return pop_payloads(session, calls)

    # --- the call log ----------------------------------------------------------------------

    async def _write(self, batch: list[Call | OutboundCall]) -> None:
        await asyncio.get_running_loop().run_in_executor(self.db, self._write_batch, batch)
        self.board.calls_written()

    def _write_batch(self, batch: list[Call | OutboundCall]) -> None:
        window = timedelta(minutes=self.settings.callback_window_min)
        calls = [c for c in batch if isinstance(c, Call)]
        with db.transaction(self.sessions) as session:
            save_outbound(session, [c for c in batch if isinstance(c, OutboundCall)])
            rows = call_log.save_calls(session, calls, self.settings.region)
            identified = {
                linkedid: _identify(session, caller, arrived, self.settings.region)
                for linkedid, caller, arrived in call_log.unidentified(calls, rows)
            }
            call_log.follow_ups(session, calls, rows, window, identified)
            for outbound in batch:
                if isinstance(outbound, OutboundCall) and outbound.result is not None:
                    log.info(
                        "callback attempt ended attempt=%d call=%s operator=%s result=%s",
                        outbound.attempt_id, outbound.linkedid, outbound.operator, outbound.result,
                    )  # fmt: skip
            for call in calls:
                if call.state is CallState.ENDED:
                    log.info(
                        "call ended call=%s caller=%r outcome=%s route=%s operator=%s",
                        call.linkedid,
                        call.caller_raw,
                        call.outcome,
                        call.route,
                        call.operator,
                    )

    async def flush(self, timeout: float = 30.0) -> None:
        """Wait until every change so far is written (or set aside: see call_log_writer)."""
        await self.writer.flush(timeout)

    async def warm_up(self) -> None:
        """Compute this year's public holidays before the first call needs them (about
        0.1 s the first time): the first pop or callback of the day is not held up."""
        today = datetime.now(UTC).date()
        await asyncio.get_running_loop().run_in_executor(self.reads, Calendar().holiday, today)

    # --- gaps --------------------------------------------------------------------------------

    async def on_state(self, event: ConnectionEvent) -> None:
        log.info("ami %s at=%s %s", event.state, event.at.isoformat(), event.detail)
        self.board.connection(event)

    async def adopt_unfinished(self) -> None:
        """At start: follow the calls an earlier run left unfinished in the log."""
        loop = asyncio.get_running_loop()
        calls = await loop.run_in_executor(self.db, self._unfinished)
        for call in calls:
            self.tracker.adopt(call)
        if calls:
            log.info("following %d unfinished call(s) from the log", len(calls))

    def _unfinished(self) -> list[Call]:
        with self.sessions() as session:
            return call_log.unfinished_calls(session)

    async def resync(self) -> None:
        """After every login: reconcile what happened while nobody was listening."""
        if self.client is None:
            return
        await self.board.resync(self.client)
        now = datetime.now(UTC)
        try:
            listing = await self.client.action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            log.error("resync: CoreShowChannels failed error=%r", exc)
            return
        live: dict[str, list[LiveChannel]] = {}
        for item in listing.items:
            channel = _live_channel(item)
            if channel is not None:
                live.setdefault(channel.linkedid, []).append(channel)
        gone = [c for lid, c in self.tracker.calls.items() if lid not in live]
        if gone:
            queue_log, cdrs = await asyncio.get_running_loop().run_in_executor(
                self.reads, self._records
            )
            for call in gone:
                self.tracker.forget(call.linkedid)
                closed = close_from_records(call, queue_log, cdrs, now)
                log.info(
                    "resync: call=%s ended during the gap outcome=%s", call.linkedid, closed.outcome
                )
                self.mark(closed)
        for linkedid, channels in live.items():
            if OutboundTracker.claims({"Linkedid": linkedid}):
                continue  # a callback attempt's call: not an inbound call to adopt
            if not any(c.uniqueid == linkedid for c in channels):
                continue  # not an inbound call's legs (e.g. a stray operator channel)
            known = self.tracker.calls.get(linkedid)
            adopted = adopt_live(linkedid, channels, now, known)
            if adopted != known:
                self.tracker.adopt(adopted)
                self.mark(adopted)
        log.info("resync done live=%d closed=%d", len(live), len(gone))

    def _records(self) -> tuple[list[Any], list[Any]]:
        folder = Path(self.settings.asterisk_log_dir)
        return (
            parse_queue_log(_read(folder / "queue_log")),
            parse_cdr_csv(_read(folder / "cdr-custom" / "Master.csv")),
        )

    async def close(self, timeout: float = 30.0) -> Report[Call | OutboundCall]:
        """Write what is left; the report says exactly what was not written."""
        for linkedid in list(self._ahead_timers):
            self._drop_ahead(linkedid)
        self.board.close()
        report = await self.writer.close(timeout)
        self.db.shutdown(wait=True)
        self.reads.shutdown(wait=True)
        return report


def _identify(session: Session, caller: str, arrived: datetime, region: str) -> call_log.Identified:
    """A call the routing service did not decide: the same rules, as of its arrival."""
    decision = route_call(session, caller, arrived, region)
    return call_log.Identified(decision.covered, decision.contract)


_LINKEDID_KEYS = frozenset({"Linkedid", "LinkedID"})  # as domain/ami_events.linkedid_of reads


def _of_attempt(frame: Frame) -> bool:
    """Might this be a callback attempt's event? (The outbound tracker follows every event of
    its calls.) Looser than OutboundTracker.claims, any Linkedid's value that starts as an
    attempt's does: what passes is judged in full."""
    return any(
        value.startswith(ATTEMPT_PREFIX) for key, value in frame.pairs if key in _LINKEDID_KEYS
    )


def _linkedid(call: Call | OutboundCall) -> str:
    return call.linkedid


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        log.warning("resync: %s not found; calls ended in the gap close without it", path)
        return ""


def _live_channel(frame: Frame) -> LiveChannel | None:
    if frame.event != "CoreShowChannel":
        return None
    uniqueid, linkedid = frame.get("Uniqueid") or "", frame.get("Linkedid") or ""
    if not uniqueid or not linkedid:
        return None
    return LiveChannel(
        channel=frame.get("Channel") or "",
        uniqueid=uniqueid,
        linkedid=linkedid,
        application=frame.get("Application") or "",
        seconds=parse_duration(frame.get("Duration") or ""),
        caller_num=frame.get("CallerIDNum") or "",
        caller_name=caller_id_given(frame.get("CallerIDName")),
        exten=frame.get("Exten") or "",
        bridged=bool(frame.get("BridgeId")),
    )


async def run_listener(
    settings: Settings,
    stop: asyncio.Event,
    hub: PopHub,
    record: Path | None = None,
    on_ready: Callable[[Listener], None] | None = None,
    max_login_attempts: int | None = None,
    board: LiveBoard | None = None,
) -> Listener:
    """Listen until `stop` is set; returns the listener (its counters) when done.

    A refused login is retried for as long as it runs (loudly, with capped backoff) unless
    `max_login_attempts` bounds it: `callcenter listen` alone then stops with a clear error,
    while `serve` never does, so its routing service keeps answering callers.

    `on_ready` is called once the listener and its AMI client exist (before the client
    connects): what else runs in this process (the web app's "Call back") reaches the AMI
    through `listener.client` (see pbx/callbacks.call_back). `board` is the live wallboard
    the events feed (pbx/wallboard.py; the web app of the same process shows it)."""
    engine = db.make_engine(settings.database_url)
    listener = Listener(db.sessions(engine), settings, hub, board)
    await listener.warm_up()
    await listener.adopt_unfinished()
    client = AmiClient.from_settings(
        settings,
        handler=listener.handle,
        on_login=listener.resync,
        on_state=listener.on_state,
        record=record,
        max_login_attempts=max_login_attempts,
    )
    listener.client = client
    if on_ready is not None:
        on_ready(listener)
    runner = asyncio.create_task(client.run(), name="ami-client")
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()  # AmiAuthError after bounded retries, or a failure of the client
    finally:
        stopper.cancel()
        await client.close()
        await listener.close()
        engine.dispose()
    return listener
