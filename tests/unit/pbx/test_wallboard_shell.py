"""The wallboard's shell (pbx/wallboard.py) with a stand-in AMI client: the rebuild after a
login, a QueueStatus that fails (the listener's own resync must still run), messages only
to the wallboard's subscribers, changes close together sent as one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from callcenter.domain.wallboard import Counts
from callcenter.pbx.ami import AmiConnectionError, ConnectionEvent, ConnectionState
from callcenter.pbx.frames import ActionResult, Frame
from callcenter.pbx.pops import ALL, PopHub
from callcenter.pbx.wallboard import PUBLISH_DELAY, WALLBOARD, LiveBoard

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Client:
    def __init__(self, answer: ActionResult | Exception) -> None:
        self.answer = answer
        self.asked: list[dict[str, str]] = []

    async def action(self, fields: dict[str, str], timeout: float | None = None) -> ActionResult:
        self.asked.append(fields)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def status(*events: tuple[tuple[str, str], ...], ok: bool = True) -> ActionResult:
    response = Frame.of(("Response", "Success" if ok else "Error"), ("EventList", "start"))
    complete = Frame.of(("Event", "QueueStatusComplete"), ("EventList", "Complete"))
    return ActionResult(response, (*(Frame.of(*e) for e in events), complete))


OP1 = (("Event", "QueueMember"), ("Queue", "support"), ("Name", "op1"),
       ("Location", "PJSIP/op1"), ("Status", "1"), ("Paused", "0"))  # fmt: skip


def counted(now: datetime) -> Counts:
    return Counts(offered=3, answered=2, abandoned=1, unanswered=0, rejected=0,
                  queued_over=3, answered_in_target=2)  # fmt: skip


async def settle() -> None:
    await asyncio.sleep(PUBLISH_DELAY * 3)


async def test_a_login_rebuilds_the_board_and_reads_the_counters() -> None:
    hub = PopHub()
    board = LiveBoard(hub, counted, clock=lambda: NOW)
    client = Client(status(OP1))
    async with hub.subscribe(WALLBOARD) as wall, hub.subscribe(ALL) as every_pop:
        board.connection(ConnectionEvent(ConnectionState.CONNECTED, NOW))
        await board.resync(client)  # type: ignore[arg-type]
        message = await asyncio.wait_for(wall.get(), 2)
        while message["counts"] is None:  # the counters come a moment later
            message = await asyncio.wait_for(wall.get(), 2)
        assert client.asked == [{"Action": "QueueStatus"}]
        assert [(o["name"], o["state"]) for o in message["operators"]] == [("op1", "free")]
        assert message["connected"] is True and message["kind"] == "wallboard"
        assert message["counts"]["offered"] == 3 and message["counts"]["waiting"] == 0
        assert every_pop.empty()  # the screens of every pop do not get the board
    board.close()


async def test_a_failed_or_refused_queue_status_leaves_the_board_and_raises_nothing() -> None:
    board = LiveBoard(PopHub(), clock=lambda: NOW)
    await board.resync(Client(status(OP1)))  # type: ignore[arg-type]
    before = board.board
    for answer in (status(ok=False), AmiConnectionError("gone"), RuntimeError("a bug")):
        await board.resync(Client(answer))  # type: ignore[arg-type]
        assert board.board is before
    assert board.rebuilds == 1
    board.close()


async def test_changes_close_together_go_out_as_one_message_to_watchers_only() -> None:
    hub = PopHub()
    board = LiveBoard(hub, clock=lambda: NOW)
    board.feed({"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": "1.0"}, NOW)
    await settle()  # nobody watched: nothing was built or queued
    got: list[dict[str, Any]] = []
    async with hub.subscribe(WALLBOARD) as wall:
        for n in range(2, 6):
            board.feed({"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": f"{n}.0"}, NOW)
        board.feed({"Event": "Newchannel", "Uniqueid": "9.9"}, NOW)  # not the board's
        await settle()
        while not wall.empty():
            got.append(wall.get_nowait())
    assert len(got) == 1 and len(got[0]["waiting"]) == 5
    board.close()


async def test_with_no_wallboard_open_the_counters_are_not_read_until_one_opens() -> None:
    reads: list[datetime] = []

    def reader(now: datetime) -> Counts:
        reads.append(now)
        return counted(now)

    hub = PopHub()
    board = LiveBoard(hub, reader, clock=lambda: NOW)
    board.counts = counted(NOW)
    board.calls_written()  # nobody watches: stale, not read
    await settle()
    assert reads == [] and board.counts is None
    async with hub.subscribe(WALLBOARD) as wall:
        board.screen_opened()
        message = await asyncio.wait_for(wall.get(), 2)
        assert reads == [NOW] and message["counts"]["offered"] == 3
    board.close()
