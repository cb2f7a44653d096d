"""The wallboard on a real uvicorn server with a live board (as `callcenter serve` runs it),
a real SQLite file and real WebSocket clients: `GET /api/wallboard` is the board and today's
counters from the call log; a manager's `/ws/pops` gets the board's picture on connect and
every change after; an operator's socket never carries it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web_support import Account, LiveServer, bearer, login_in_browser, screenshot
from websockets.sync.client import ClientConnection, connect

from callcenter.config import Settings
from callcenter.domain.calls import Call, CallState, Outcome
from callcenter.domain.wallboard import today_bounds
from callcenter.pbx.pops import PopHub
from callcenter.pbx.wallboard import LiveBoard
from callcenter.store import call_log, db
from callcenter.wallboard import count_reader
from callcenter.web.server import run_web
from tests.support.waits import wait_for


class BoardServer(LiveServer):
    board: LiveBoard

    def feed(self, event: dict[str, str]) -> None:
        """An AMI event into the live board, as the listener hands it over."""
        self.loop.call_soon_threadsafe(self.board.feed, event, datetime.now(UTC))

    def calls_written(self) -> None:
        self.loop.call_soon_threadsafe(self.board.calls_written)


@pytest.fixture
def board_server(web_db_url: str) -> Iterator[BoardServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(database_url=web_db_url, web_host="127.0.0.1", web_port=port,
                        web_ws_recheck_s=0.2)  # fmt: skip
    engine = db.make_engine(web_db_url)
    hub = PopHub()
    board = LiveBoard(hub, count_reader(db.sessions(engine)))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        stop, started = asyncio.Event(), asyncio.Event()
        state["stop"] = stop
        task = asyncio.create_task(run_web(settings, stop, hub, [sock], started, board=board))
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        ready.set()
        await task
        board.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "web server did not start"
    server = BoardServer(f"http://127.0.0.1:{port}", settings, hub, loop)
    server.board = board
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        loop.close()
        sock.close()
        engine.dispose()


def member(name: str, status: int, event: str = "QueueMemberStatus", **more: str):
    return {"Event": event, "Queue": "support", "MemberName": name,
            "Interface": f"PJSIP/{name}", "Status": str(status), "Paused": "0", **more}  # fmt: skip


def receive_board(sock: ClientConnection, until: Callable[[dict[str, Any]], bool]):
    """The wallboard messages the socket gets, up to the first one `until` accepts."""
    while True:
        message = json.loads(sock.recv(timeout=10))
        if message.get("kind") == "wallboard" and until(message):
            return message


def states(message: dict[str, Any]) -> dict[str, str]:
    return {o["name"]: o["state"] for o in message["operators"]}


def log_calls(url: str, calls: list[Call]) -> None:
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            call_log.save_calls(session, calls)
    finally:
        engine.dispose()


def ended(linkedid: str, outcome: Outcome, wait: float | None) -> Call:
    now = datetime.now(UTC)
    arrived = max(now - timedelta(seconds=90), today_bounds(now)[0])
    queued = arrived + timedelta(seconds=1)
    return Call(
        linkedid=linkedid, state=CallState.ENDED, arrived=arrived, caller_raw="601234567",
        route="queue", reason="covered", queued=queued,
        answered=queued + timedelta(seconds=wait) if wait is not None else None,
        ended=now, operator="op1" if wait is not None else None, outcome=outcome,
    )  # fmt: skip


def test_the_snapshot_is_the_live_board_and_todays_counters(
    board_server: BoardServer, make_user: Callable[..., Account]
) -> None:
    boss = make_user("boss", "manager")
    log_calls(board_server.settings.database_url, [
        ended("500.1", Outcome.ANSWERED, 5.0),
        ended("500.2", Outcome.ANSWERED, 40.0),
        ended("500.3", Outcome.ABANDONED, None),
    ])  # fmt: skip
    board_server.feed(member("op1", 1, "QueueMemberAdded"))
    board_server.feed(member("op2", 5, "QueueMemberAdded"))
    board_server.feed({"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": "600.1",
                       "CallerIDNum": "+48601234567", "CallerIDName": "Zażółć <b>Gęślą</b>",
                       "Position": "1"})  # fmt: skip
    with board_server.client() as http:
        headers = {"Authorization": f"Bearer {bearer(http, boss)}"}
        wait_for(lambda: http.get("/api/wallboard", headers=headers).json()["waiting"], 10,
                 "the caller on the board")  # fmt: skip
        got = http.get("/api/wallboard", headers=headers).json()
    assert got["live"] is True and got["kind"] == "wallboard"
    assert states(got) == {"op1": "free", "op2": "unreachable"}
    [caller] = got["waiting"]
    assert caller["caller"] == "+48601234567" and caller["caller_name"] == "Zażółć <b>Gęślą</b>"
    assert caller["position"] == 1 and caller["waited_s"] >= 0
    counts = got["counts"]
    assert (counts["offered"], counts["answered"], counts["abandoned"]) == (3, 2, 1)
    assert counts["waiting"] == 1
    assert (counts["answered_in_target"], counts["queued_over"]) == (1, 3)
    assert counts["service_level"] == pytest.approx(1 / 3)


def test_a_managers_socket_gets_the_board_on_connect_and_each_change(
    board_server: BoardServer, make_user: Callable[..., Account]
) -> None:
    boss = make_user("boss", "manager")
    board_server.feed(member("op1", 1, "QueueMemberAdded"))
    with board_server.client() as http:
        token = bearer(http, boss)
    headers = {"Authorization": f"Bearer {token}"}
    with connect(board_server.ws_url, additional_headers=headers) as sock:
        first = receive_board(sock, lambda m: True)
        assert states(first) == {"op1": "free"} and first["connected"] is False
        board_server.feed(member("op1", 6))
        ringing = receive_board(sock, lambda m: states(m) == {"op1": "ringing"})
        assert ringing["version"] > first["version"]
        # the call log changed: the counters are read again and sent
        log_calls(board_server.settings.database_url, [ended("501.1", Outcome.ANSWERED, 3)])
        board_server.calls_written()
        counted = receive_board(sock, lambda m: (m["counts"] or {}).get("offered") == 1)
        assert counted["counts"]["service_level"] == 1.0


def test_an_operators_socket_never_carries_the_board(
    board_server: BoardServer, make_user: Callable[..., Account]
) -> None:
    op1 = make_user("op1", "operator", endpoint="op1")
    boss = make_user("boss", "manager")
    with board_server.client() as http:
        token, boss_token = bearer(http, op1), bearer(http, boss)
        refused = http.get("/api/wallboard", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403
    with (
        connect(
            board_server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as sock,
        connect(
            board_server.ws_url, additional_headers={"Authorization": f"Bearer {boss_token}"}
        ) as wall,
    ):
        wait_for(lambda: board_server.subscribers("op1") == 1, 10, "op1's screen subscribed")
        board_server.feed(member("op1", 2, "QueueMemberAdded"))
        # the manager's wall got the change: it has gone out through the hub
        receive_board(wall, lambda m: states(m) == {"op1": "talking"})
        board_server.publish({"kind": "ringing", "endpoint": "op1", "linkedid": "marker"})
        got = json.loads(sock.recv(timeout=10))
        assert got["linkedid"] == "marker", got  # no wallboard message came before it


def test_the_wall_in_chromium_paused_unreachable_and_hostile_text(
    board_server: BoardServer, make_user: Callable[..., Account], browser_page: Any
) -> None:
    """Every state drawn (colour by state), text from outside written as text, a long
    queue without overlaps, and the wall saying the AMI link is down."""
    page = browser_page
    boss = make_user("boss", "manager")
    hostile = '<img src=x onerror="document.body.dataset.pwned=1">'
    log_calls(board_server.settings.database_url, [ended("503.1", Outcome.ANSWERED, 4.0)])
    board_server.feed(member("op1", 1, "QueueMemberAdded"))
    board_server.feed(member("op2", 1, "QueueMemberAdded", Paused="1", PausedReason=hostile))
    board_server.feed(member("op3", 5, "QueueMemberAdded"))
    board_server.feed(member("op4", 6, "QueueMemberAdded"))
    board_server.feed(member("op5-z-bardzo-dluga-nazwa-telefonu", 2, "QueueMemberAdded"))
    for n in range(1, 9):
        board_server.feed({"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": f"70.{n}",
                           "CallerIDNum": f"+4860100000{n}", "Position": str(n),
                           "CallerIDName": hostile if n == 1 else f"Klient {n}"})  # fmt: skip
    login_in_browser(page, board_server, boss)
    page.goto(board_server.url + "/wallboard")
    page.wait_for_selector('#wall-link[data-state="closed"]')  # no AMI behind this server
    assert "Brak połączenia z centralą" in page.locator("#wall-link").inner_text()
    page.wait_for_selector(".wait >> nth=7")
    for name, state, label in [
        ("op1", "free", "Wolny"),
        ("op2", "paused", "Przerwa"),
        ("op3", "unreachable", "Niedostępny"),
        ("op4", "ringing", "Dzwoni"),
        ("op5-z-bardzo-dluga-nazwa-telefonu", "talking", "Rozmawia"),
    ]:
        card = page.locator(f'.op[data-name="{name}"]')
        assert card.get_attribute("data-state") == state, name
        assert card.locator('[data-f="state"]').inner_text() == label
    assert page.locator('.op[data-name="op2"] [data-f="pause"]').inner_text() == hostile
    assert page.locator(".wait").first.locator('[data-f="caller_name"]').inner_text() == hostile
    assert page.locator("#c-waiting").inner_text() == "8"
    # a change over the socket (its pictures carry no counters until the board has read
    # them): the counters read with the snapshot stay
    board_server.feed({"Event": "QueueCallerAbandon", "Queue": "support", "Uniqueid": "70.8"})
    page.wait_for_selector("#c-waiting:text-is('7')")
    assert page.locator("#c-offered").inner_text() == "1"
    assert page.locator("#c-sl").inner_text() == "100%"
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("img").count() == 0
    # nothing drawn over anything else: the cards of the wall do not overlap
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.count, .op, .wait')].map(e => {
               const r = e.getBoundingClientRect();
               return [r.left, r.top, r.right, r.bottom, e.scrollWidth <= e.clientWidth + 1];
           })"""
    )
    for i, a in enumerate(boxes):
        assert a[4], f"box {i} overflows its width"
        for b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (a, b)
    screenshot(page, "wallboard-states")


def test_without_a_listener_the_snapshot_has_the_counters_only(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    """`callcenter web` alone: no live board in the process; today's counters still."""
    boss = make_user("boss", "manager")
    log_calls(live_server.settings.database_url, [ended("502.1", Outcome.ABANDONED, None)])
    with live_server.client() as http:
        got = http.get("/api/wallboard", headers={"Authorization": f"Bearer {bearer(http, boss)}"})
    assert got.status_code == 200
    body = got.json()
    assert body["live"] is False and body["operators"] == [] and body["waiting"] == []
    assert (body["counts"]["offered"], body["counts"]["abandoned"]) == (1, 1)
    assert body["counts"]["waiting"] is None  # not known without the listener
