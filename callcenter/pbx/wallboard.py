"""The live wallboard's shell: the listener's events into the pure board
(domain/wallboard.py), rebuilt from `QueueStatus` after every AMI login, and its picture out
to the managers' screens through the pop hub.

The listener hands every event to `feed` (a cheap test of the event's name first: most events
are not the board's), each connection change to `connection`, and calls `resync` after every
login, in the AMI client's one consumer, so no event is folded while the board is rebuilt.
After a change the board's message (`kind: wallboard`, the whole picture, with a `version`)
goes to the subscribers of the hub's `WALLBOARD` key (every manager's `/ws/pops`; not the
subscribers of every pop); changes close together go out as one message. It is delivered in
this process only (never through PostgreSQL's NOTIFY, whose payload is limited): the board
lives where the listener runs, so `callcenter serve` shows it live, and `callcenter web`
alone shows today's counters only.

Today's counters come from the call log, read in a thread: a moment after the listener has
written calls (`calls_written`), after a login and at midnight (Warsaw), while a wallboard is
open; with none open they are only marked stale and read when one opens (`screen_opened`),
so the listener does no counting for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from callcenter.domain.wallboard import EVENTS, Board, Counts, fold, rebuild, today_bounds, view
from callcenter.pbx.ami import AmiClient, AmiError, ConnectionEvent, ConnectionState
from callcenter.pbx.pops import PopHub

log = logging.getLogger(__name__)

WALLBOARD = "*wallboard"  # the hub's key for the board's messages (no endpoint has a "*")
KIND = "wallboard"
PUBLISH_DELAY = 0.1  # seconds: changes within it go out as one message
RECOUNT_DELAY = 1.0  # seconds after a write before the counters are read again (at most
# one read a second while calls keep being written)

CountReader = Callable[[datetime], Counts]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LiveBoard:
    def __init__(
        self,
        hub: PopHub,
        read_counts: CountReader | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.hub = hub
        self.read_counts = read_counts
        self.clock = clock
        self.board = Board()
        self.connected = False
        self.connection_since: datetime | None = None
        self.counts: Counts | None = None
        self.rebuilds = 0
        self._publishing: asyncio.TimerHandle | None = None
        self._recount: asyncio.Task[None] | None = None
        self._recount_again = False
        self._midnight: asyncio.TimerHandle | None = None

    # --- in: events, connection, login ---------------------------------------------------

    def feed(self, event: Mapping[str, str], at: datetime) -> None:
        """One AMI event, received at `at` (the listener's consumer calls this for all)."""
        if event.get("Event") not in EVENTS:
            return
        board = fold(self.board, event, at)
        if board is not self.board:
            self.board = board
            self._changed()

    def connection(self, event: ConnectionEvent) -> None:
        """The AMI connection went up or down: the wall says whether it is live."""
        self.connected = event.state is ConnectionState.CONNECTED
        self.connection_since = event.at
        self._changed()

    async def resync(self, client: AmiClient) -> None:
        """After a login: the board anew from `QueueStatus` (what changed unseen while the
        connection was down is right again), and the counters read again."""
        try:
            answer = await client.action({"Action": "QueueStatus"})
            if not answer.ok:
                log.error("wallboard: QueueStatus refused %s", answer.response.describe())
                return
            at = self.clock()
            self.board = rebuild(self.board, [frame.as_dict() for frame in answer.items], at)
        except AmiError as exc:
            log.error("wallboard: QueueStatus failed error=%r", exc)
            return
        except Exception:  # the listener's own resync runs after this one: never stop it
            log.exception("wallboard: rebuilding from QueueStatus failed")
            return
        self.rebuilds += 1
        log.info(
            "wallboard rebuilt from QueueStatus members=%d waiting=%d",
            len(self.board.members), len(self.board.waiting),
        )  # fmt: skip
        self._changed()
        self.calls_written()

    def calls_written(self) -> None:
        """The call log changed: read today's counters again in a moment (while a wallboard
        is open; else they are only marked stale, and read when one opens)."""
        if self.read_counts is None:
            return
        if not self.hub.watching(WALLBOARD):
            self.counts = None
            return
        if self._recount is not None and not self._recount.done():
            self._recount_again = True
            return
        self._recount = asyncio.get_running_loop().create_task(self._count(), name="wb-count")

    async def _count(self) -> None:
        assert self.read_counts is not None
        while True:
            self._recount_again = False
            await asyncio.sleep(RECOUNT_DELAY)
            now = self.clock()
            try:
                self.counts = await asyncio.to_thread(self.read_counts, now)
            except Exception:
                log.exception("wallboard: counting today's calls failed")
            else:
                self._changed()
                self._at_midnight(now)
            if not self._recount_again:
                return

    def screen_opened(self) -> None:
        """A wallboard subscribed: its counters are read now if they are stale."""
        if self.counts is None:
            self.calls_written()

    def _at_midnight(self, now: datetime) -> None:
        """Count again when the day changes (the counters start from nought)."""
        if self._midnight is not None:
            self._midnight.cancel()
        seconds = (today_bounds(now)[1] - now).total_seconds() + 1.0
        self._midnight = asyncio.get_running_loop().call_later(seconds, self.calls_written)

    # --- out: the picture ----------------------------------------------------------------

    def message(self, now: datetime, counts: Counts | None = None) -> dict[str, Any]:
        """The board's message at `now`: the view, the connection, today's counters (the
        board's own, or `counts` read by the caller)."""
        picture = view(self.board, now)
        counts = counts if counts is not None else self.counts
        return {
            "kind": KIND,
            "endpoint": WALLBOARD,
            **picture,
            "live": True,
            "connected": self.connected,
            "connection_since": (
                self.connection_since.isoformat() if self.connection_since else None
            ),
            "counts": counts.as_json(len(picture["waiting"])) if counts else None,
        }

    def _changed(self) -> None:
        if self._publishing is not None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: nobody to tell
            loop = asyncio.get_running_loop()
            self._publishing = loop.call_later(PUBLISH_DELAY, self._publish)

    def _publish(self) -> None:
        self._publishing = None
        if self.hub.watching(WALLBOARD):
            self.hub.send_to(WALLBOARD, self.message(self.clock()))

    def close(self) -> None:
        for handle in (self._publishing, self._midnight):
            if handle is not None:
                handle.cancel()
        if self._recount is not None:
            self._recount.cancel()
