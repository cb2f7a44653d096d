"""`/ws/pops` on a real uvicorn server with a real WebSocket client: pops published into the
hub reach the operator of that endpoint only; on connect the calls still ringing or in talk
there are replayed from the call log (a real SQLite file); bad logins are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web_support import Account, LiveServer, bearer, login_cookie
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from callcenter.domain.calls import Call, CallState, Ring, RingResult
from callcenter.store import call_log, db
from callcenter.store import users as store
from tests.support.waits import wait_for

CONTRACT = "CC-2026-001"  # the demo's Zakład Usług Informatycznych Łódź


def wait_for_subscriber(server: LiveServer, endpoint: str, count: int = 1) -> None:
    wait_for(
        lambda: server.subscribers(endpoint) >= count,
        10,
        f"{count} screen(s) subscribed to {endpoint}'s pops",
        every=0.01,
    )


def next_is_the_marker(server: LiveServer, socket: ClientConnection, endpoint: str) -> None:
    """Publish a marker pop to `endpoint` and receive it as the socket's very next message:
    nothing else was on its way there before it (the hub keeps each screen's order)."""
    server.publish(pop(endpoint, "marker"))
    got = receive(socket)
    assert got["linkedid"] == "marker", got


def receive(socket: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    message = json.loads(socket.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def pop(endpoint: str, linkedid: str, kind: str = "ringing", **more: Any) -> dict[str, Any]:
    return {"kind": kind, "endpoint": endpoint, "linkedid": linkedid,
            "at": datetime.now(UTC).isoformat(), "caller": "+48601234567",
            "caller_name": "Zażółć <b>Gęślą</b>", **more}  # fmt: skip


def token_socket(server: LiveServer, token: str) -> ClientConnection:
    return connect(server.ws_url, additional_headers={"Authorization": f"Bearer {token}"})


def test_an_operator_receives_the_pops_of_their_own_endpoint_only(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op1 = make_user("op1", "operator", endpoint="op1")
    op2 = make_user("op2", "operator", endpoint="op2")
    with live_server.client() as http:
        t1, t2 = bearer(http, op1), bearer(http, op2)
    with token_socket(live_server, t1) as s1, token_socket(live_server, t2) as s2:
        wait_for_subscriber(live_server, "op1")
        wait_for_subscriber(live_server, "op2")
        live_server.publish(pop("op2", "100.1"))
        live_server.publish(pop("op1", "100.2", call_id=7, route="queue", reason="covered"))
        got = receive(s1)
        assert got["linkedid"] == "100.2" and got["endpoint"] == "op1"
        assert got["caller_name"] == "Zażółć <b>Gęślą</b>" and got["reason"] == "covered"
        other = receive(s2)
        assert other["linkedid"] == "100.1"
        live_server.publish(pop("op1", "100.2", kind="taken", operator="op3"))
        assert receive(s1)["kind"] == "taken"
        next_is_the_marker(live_server, s2, "op2")  # op1's pops never reached op2


def test_the_session_cookie_opens_the_socket_from_the_apps_own_origin_only(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        login_cookie(http, op)
        cookie = f"cc_session={http.cookies['cc_session']}"
    with connect(live_server.ws_url, origin=live_server.url,
                 additional_headers={"Cookie": cookie}) as socket:  # fmt: skip
        wait_for_subscriber(live_server, "op1")
        live_server.publish(pop("op1", "200.1"))
        assert receive(socket)["linkedid"] == "200.1"
    with connect(live_server.ws_url, origin="http://evil.example",
                 additional_headers={"Cookie": cookie}) as socket:  # fmt: skip
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"},
                                     {"Cookie": "cc_session=forged"}])  # fmt: skip
def test_a_socket_without_a_live_login_is_closed_with_4401(
    live_server: LiveServer, headers: dict[str, str]
) -> None:
    with connect(live_server.ws_url, origin=live_server.url,
                 additional_headers=headers) as socket:  # fmt: skip
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def _log_calls(url: str, calls: list[Call]) -> None:
    engine = db.make_engine(url)
    with db.transaction(db.sessions(engine)) as session:
        call_log.save_calls(session, calls)
    engine.dispose()


def test_on_connect_the_calls_ringing_or_in_talk_there_are_replayed_first(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op1 = make_user("op1", "operator", endpoint="op1")
    op2 = make_user("op2", "operator", endpoint="op2")
    now = datetime.now(UTC)
    ringing = Call(
        linkedid="300.1", state=CallState.QUEUED, arrived=now - timedelta(seconds=20),
        caller_raw="601234567", route="queue", reason="covered", contract=CONTRACT,
        queued=now - timedelta(seconds=15),
        rings=(Ring("op2", now - timedelta(seconds=14), 10, RingResult.NO_ANSWER),
               Ring("op1", now - timedelta(seconds=4))),
    )  # fmt: skip
    talking = Call(
        linkedid="300.2", state=CallState.ANSWERED, arrived=now - timedelta(minutes=3),
        caller_raw="601234567", route="queue", reason="covered", contract=CONTRACT,
        queued=now - timedelta(minutes=3), answered=now - timedelta(minutes=2), operator="op2",
        rings=(Ring("op2", now - timedelta(minutes=3), 20, RingResult.ANSWERED),),
    )  # fmt: skip
    over = Call(
        linkedid="300.3", state=CallState.ENDED, arrived=now - timedelta(minutes=9),
        caller_raw="601234567", route="queue", reason="covered", contract=CONTRACT,
        ended=now - timedelta(minutes=8),
        rings=(Ring("op1", now - timedelta(minutes=9), 5, RingResult.CANCELLED),),
    )  # fmt: skip
    _log_calls(live_server.settings.database_url, [ringing, talking, over])
    with live_server.client() as http:
        t1, t2 = bearer(http, op1), bearer(http, op2)
    for _ in range(2):  # a reload, or a second tab: the same again
        with token_socket(live_server, t1) as socket:
            first = receive(socket)
            assert first["kind"] == "ringing" and first["linkedid"] == "300.1"
            assert first["replay"] is True and first["endpoint"] == "op1"
            assert first["contract"]["customer"] == "Zakład Usług Informatycznych Łódź"
            assert first["contract"]["allowance"]["left"] == 2
            assert first["reason"] == "covered" and first["call_id"] is not None
            # op2's talk and the ended call are not op1's: the replay had nothing more
            next_is_the_marker(live_server, socket, "op1")
    with token_socket(live_server, t2) as socket:
        talk = receive(socket)
        assert talk["kind"] == "answered" and talk["linkedid"] == "300.2"
        assert talk["contract"]["number"] == CONTRACT


def test_a_manager_watches_every_endpoint(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    boss = make_user("boss", "manager")
    with live_server.client() as http:
        token = bearer(http, boss)
    with token_socket(live_server, token) as socket:
        wait_for_subscriber(live_server, "*")
        live_server.publish(pop("op1", "400.1"))
        live_server.publish(pop("op3", "400.2"))
        assert [receive(socket)["linkedid"] for _ in range(2)] == ["400.1", "400.2"]


def test_an_open_socket_closes_with_4401_when_the_account_is_disabled(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        token = bearer(http, op)
    with token_socket(live_server, token) as socket:
        wait_for_subscriber(live_server, "op1")
        engine = db.make_engine(live_server.settings.database_url)
        with db.transaction(db.sessions(engine)) as session:
            store.disable_user(session, "op1", datetime.now(UTC), actor="test")
        engine.dispose()
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)  # rechecked every 0.2 s here
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
