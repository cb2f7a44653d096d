"""The AMI connection (callcenter/pbx/ami.py) against a fake AMI server run by this test.

The fake server listens on 127.0.0.1 (random port), sends the greeting, answers Login, Ping
and Logoff, and lets each test script the rest. Each of panoramisk 1.4's traps has a test
here: a raising handler, ordering of async handlers, a UTF-8 letter split across reads, a
refused login, and a Ping that is never (or wrongly) answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from callcenter.pbx import ami as ami_module
from callcenter.pbx.ami import (
    AmiAuthError,
    AmiClient,
    AmiConnectionError,
    AmiTimeoutError,
    Backoff,
    ConnectionEvent,
)
from callcenter.pbx.frames import Frame, FrameParser
from callcenter.pbx.recording import read_recording
from tests.support.waits import until

pytestmark = pytest.mark.timeout(30)

USER = "callcenter"
SECRET = "fake-secret-do-not-log"
NAME = "Zażółć Gęślą Jaźń"
WAIT = 5.0  # every wait in these tests is bounded by this


def frame(*pairs: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs).encode() + b"\r\n"


def event(name: str, **fields: str) -> bytes:
    return frame(("Event", name), *fields.items())


class FakeSession:
    def __init__(self, server: FakeAmi, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.ping_reply = server.ping_reply
        self.ended = asyncio.Event()  # the client closed its side

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def drop(self) -> None:
        self.writer.transport.abort()


ActionScript = Callable[[FakeSession, dict[str, str]], Awaitable[None]]


class FakeAmi:
    """A scriptable AMI server on loopback."""

    def __init__(self) -> None:
        self.ping_reply = "pong"  # "pong" | "error" | "silent", copied into each session
        self.login_attempts = 0
        self.logins = 0
        self.actions: list[dict[str, str]] = []
        self.sessions: asyncio.Queue[FakeSession] = asyncio.Queue()  # logged in, in order
        self.scripts: dict[str, ActionScript] = {}
        self._all: list[FakeSession] = []
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in self._all:
                session.drop()
            await asyncio.wait_for(self._server.wait_closed(), WAIT)

    async def next_session(self) -> FakeSession:
        return await asyncio.wait_for(self.sessions.get(), WAIT)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = FakeSession(self, writer)
        self._all.append(session)
        buffer = b""
        try:
            await session.send(b"Asterisk Call Manager/11.0.0\r\n")
            while data := await reader.read(4096):
                buffer += data
                while b"\r\n\r\n" in buffer:
                    raw, buffer = buffer.split(b"\r\n\r\n", 1)
                    lines = raw.decode().split("\r\n")
                    action = {k.lower(): v for k, _, v in (ln.partition(": ") for ln in lines)}
                    await self._handle(session, action)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            session.ended.set()
            writer.close()

    async def _handle(self, session: FakeSession, action: dict[str, str]) -> None:
        self.actions.append(action)
        name, action_id = action["action"].lower(), action.get("actionid", "")
        if name == "login":
            self.login_attempts += 1
            if action.get("username") == USER and action.get("secret") == SECRET:
                self.logins += 1
                await session.send(
                    frame(("Response", "Success"), ("ActionID", action_id),
                          ("Message", "Authentication accepted"))
                )  # fmt: skip
                self.sessions.put_nowait(session)
            else:
                await session.send(
                    frame(("Response", "Error"), ("ActionID", action_id),
                          ("Message", "Authentication failed"))
                )  # fmt: skip
                session.writer.close()
        elif name in self.scripts:
            await self.scripts[name](session, action)
        elif name == "ping" and session.ping_reply == "pong":
            await session.send(
                frame(("Response", "Success"), ("ActionID", action_id), ("Ping", "Pong"),
                      ("Timestamp", "1700000000.000001"))
            )  # fmt: skip
        elif name == "ping" and session.ping_reply == "error":
            await session.send(
                frame(("Response", "Error"), ("ActionID", action_id), ("Message", "Nope"))
            )
        elif name == "logoff":
            await session.send(frame(("Response", "Goodbye"), ("ActionID", action_id)))
            session.writer.close()
        # anything else (or a "silent" ping): no answer


class Seen:
    """What the client delivered: events, connection states and logins, in one ordered log."""

    def __init__(self, fail_on: str | None = None, delays: dict[str, float] | None = None):
        self.frames: list[Frame] = []
        self.log: list[str] = []
        self.logins = 0
        self.fail_on = fail_on
        self.delays = delays or {}
        self._cond = asyncio.Condition()

    async def _note(self, entry: str) -> None:
        async with self._cond:
            self.log.append(entry)
            self._cond.notify_all()

    async def handler(self, frame: Frame) -> None:
        name = frame.event or ""
        await asyncio.sleep(self.delays.get(name, 0))  # the scenario: a handler this slow
        self.frames.append(frame)
        await self._note(name)
        if name == self.fail_on:
            raise RuntimeError(f"handler bug on {name}")

    async def on_state(self, change: ConnectionEvent) -> None:
        await self._note(f"<{change.state}>")

    async def on_login(self) -> None:
        self.logins += 1
        await self._note("<on_login>")

    async def wait(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(predicate)

    def events(self) -> list[str]:
        return [entry for entry in self.log if not entry.startswith("<")]


@pytest.fixture
async def server() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.stop()


def make_client(port: int, seen: Seen, secret: str = SECRET, **options: Any) -> AmiClient:
    settings: dict[str, Any] = {
        "handler": seen.handler,
        "on_login": seen.on_login,
        "on_state": seen.on_state,
        "ping_interval": 30.0,
        "ping_timeout": 1.0,
        "action_timeout": 2.0,
        "connect_timeout": 1.0,
        "login_timeout": 1.0,
        "backoff": Backoff(initial=0.01, maximum=0.05),
    }
    settings.update(options)
    return AmiClient("127.0.0.1", port, USER, secret, **settings)


@contextlib.asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(client.run())
    try:
        yield task
    finally:
        await client.close(timeout=WAIT)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, AmiAuthError):
            await asyncio.wait_for(task, WAIT)


async def test_login_ok_calls_on_login_and_delivers_events(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        session = await server.next_session()
        await session.send(event("FullyBooted", Status="Fully Booted"))
        await seen.wait(lambda: "FullyBooted" in seen.log)
        assert seen.log == ["<connected>", "<on_login>", "FullyBooted"]
        assert client.connected
        result = await client.action({"Action": "Ping"})
        assert result.ok and result.response.get("Ping") == "Pong"
        assert seen.frames[0].received_at is not None
        assert seen.frames[0].received_at.tzinfo is not None
    assert server.logins == 1
    assert SECRET not in caplog.text  # the secret is never logged


async def test_refused_login_raises_after_bounded_retries(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    client = make_client(server.port, seen, secret="bad-secret-xyz", max_login_attempts=3)
    with pytest.raises(AmiAuthError, match="refused 3 times"):  # then it stops trying
        await asyncio.wait_for(client.run(), WAIT)
    assert server.login_attempts == 3
    assert seen.logins == 0 and seen.log == []
    assert "Authentication failed" in caplog.text
    assert "bad-secret-xyz" not in caplog.text  # no secret in the logs


async def test_connection_refused_is_retried_until_the_server_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="callcenter.pbx.ami")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    seen = Seen()
    client = make_client(port, seen)
    async with running(client) as task:
        await until(
            lambda: caplog.text.count("ami connect failed") >= 3, WAIT, "three failed connects"
        )
        assert not task.done()  # still trying
        late = FakeAmi()
        await late.start(port)
        try:
            await seen.wait(lambda: seen.logins == 1)
            assert client.connected
        finally:
            await client.close(timeout=WAIT)
            await late.stop()


async def test_unanswered_ping_means_a_dead_connection_and_a_new_login(server: FakeAmi) -> None:
    seen = Seen()
    client = make_client(server.port, seen, ping_interval=0.1, ping_timeout=0.2)
    async with running(client):
        first = await server.next_session()
        first.ping_reply = "silent"  # half-open: the socket stays, the answers stop
        second = await server.next_session()
        await asyncio.wait_for(first.ended.wait(), WAIT)  # the client closed the dead one
        await seen.wait(lambda: seen.logins == 2)
        assert seen.log[:5] == [
            "<connected>",
            "<on_login>",
            "<disconnected>",
            "<connected>",
            "<on_login>",
        ]
        await second.send(event("AfterReconnect"))
        await seen.wait(lambda: "AfterReconnect" in seen.log)
    assert server.logins == 2


async def test_a_ping_answered_without_pong_also_means_reconnect(server: FakeAmi) -> None:
    seen = Seen()
    client = make_client(server.port, seen, ping_interval=0.1, ping_timeout=0.5)
    async with running(client):
        first = await server.next_session()
        first.ping_reply = "error"
        await server.next_session()
        await seen.wait(lambda: seen.logins == 2)


async def test_a_connection_dropped_mid_stream_reconnects_and_resyncs(server: FakeAmi) -> None:
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        first = await server.next_session()
        await first.send(event("Before", Uniqueid="1.1") + b"Event: Partial\r\nUniqueid: 1.")
        await seen.wait(lambda: "Before" in seen.log)
        first.drop()
        second = await server.next_session()
        await second.send(event("After", Uniqueid="1.2"))
        await seen.wait(lambda: "After" in seen.log)
    assert seen.log == [
        "<connected>",
        "<on_login>",
        "Before",
        "<disconnected>",
        "<connected>",
        "<on_login>",
        "After",
        "<disconnected>",  # close()
    ]  # the partial frame was not delivered; the gap is in order with the events


async def test_a_raising_handler_loses_neither_the_connection_nor_the_next_events(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen(fail_on="E3")
    client = make_client(server.port, seen)
    async with running(client):
        session = await server.next_session()
        chunk = b"".join(event(f"E{i}", Uniqueid=f"9.{i}", Linkedid="9.0") for i in range(1, 6))
        await session.send(chunk)  # one read: the rest of the chunk must survive
        await seen.wait(lambda: "E5" in seen.log)
        assert seen.events() == ["E1", "E2", "E3", "E4", "E5"]
        assert (await client.action({"Action": "Ping"})).ok
    assert server.logins == 1
    failures = [r for r in caplog.records if r.getMessage().startswith("ami handler failed")]
    assert len(failures) == 1
    assert "event=E3 uniqueid=9.3 linkedid=9.0" in failures[0].getMessage()
    assert failures[0].exc_info is not None


async def test_async_handlers_run_one_at_a_time_in_arrival_order(server: FakeAmi) -> None:
    seen = Seen(delays={"Slow": 0.2, "Medium": 0.05})
    client = make_client(server.port, seen)
    async with running(client):
        session = await server.next_session()
        await session.send(event("Slow") + event("Medium") + event("Fast"))
        await seen.wait(lambda: "Fast" in seen.log)
        assert seen.events() == ["Slow", "Medium", "Fast"]


async def test_malformed_frames_are_logged_and_the_next_events_arrive(
    server: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        session = await server.next_session()
        await session.send(
            event("First")
            + b"this is not a header\r\nneither is this\r\n\r\n"
            + b"Event: Kept\r\nstray text\r\nUniqueid: 3.3\r\n\r\n"
            + event("Last")
        )
        await seen.wait(lambda: "Last" in seen.log)
    assert seen.events() == ["First", "Kept", "Last"]
    kept = seen.frames[1]
    assert kept.get("Uniqueid") == "3.3" and kept.malformed == ("stray text",)
    assert client.counters["malformed"] == 2
    assert caplog.text.count("ami frame malformed") == 2


async def test_a_letter_split_across_tcp_writes_survives(
    server: FakeAmi, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[bytes] = []

    class SpyParser(FrameParser):
        def feed(self, data: bytes, at: Any = None) -> list[Frame]:
            reads.append(data)
            return super().feed(data, at)

    monkeypatch.setattr(ami_module, "FrameParser", SpyParser)
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        session = await server.next_session()
        data = event("Newchannel", CallerIDName=NAME, Uniqueid="5.5")
        cut = data.index("ż".encode()) + 1  # between the two bytes of "ż"
        start = 0
        for end in (cut, cut + 3, len(data)):
            await session.send(data[start:end])
            # the client has read this piece before the next is sent: a read of its own
            await until(
                lambda end=end: b"".join(reads).endswith(data[:end]),  # type: ignore[misc]
                WAIT,
                f"the client reading bytes {start}-{end} of the frame",
            )
            start = end
        await seen.wait(lambda: "Newchannel" in seen.log)
    assert seen.frames[0].get("CallerIDName") == NAME
    assert not seen.frames[0].invalid_utf8
    assert any(r.endswith(data[:cut]) for r in reads)  # the letter did arrive split


async def test_a_list_action_is_correlated_by_action_id_while_events_interleave(
    server: FakeAmi,
) -> None:
    async def core_show_channels(session: FakeSession, action: dict[str, str]) -> None:
        own = ("ActionID", action["actionid"])
        await session.send(
            frame(("Response", "Success"), own, ("EventList", "start"),
                  ("Message", "Channels will follow"))
            + event("Newexten", Uniqueid="7.1")
            + frame(("Event", "CoreShowChannel"), own, ("Channel", "PJSIP/op1-01"),
                    ("CallerIDName", NAME))
        )  # fmt: skip
        await seen.wait(lambda: "Newexten" in seen.log)  # the first part read: now the rest
        await session.send(
            frame(("Event", "CoreShowChannel"), ("ActionID", "not-ours-1"), ("Channel", "X"))
            + event("Hangup", Uniqueid="7.2")
            + frame(("Event", "CoreShowChannel"), own, ("Channel", "PJSIP/op2-02"))
            + frame(("Event", "CoreShowChannelsComplete"), own, ("EventList", "Complete"),
                    ("ListItems", "2"))
        )  # fmt: skip

    server.scripts["coreshowchannels"] = core_show_channels
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        await server.next_session()
        await client.wait_connected(WAIT)
        listing, ping = await asyncio.gather(
            client.action({"Action": "CoreShowChannels"}), client.action({"Action": "Ping"})
        )
        assert ping.response.get("Ping") == "Pong"
        assert listing.ok
        assert [e.get("Channel") for e in listing.items] == ["PJSIP/op1-01", "PJSIP/op2-02"]
        assert listing.items[0].get("CallerIDName") == NAME
        assert listing.events[-1].get("ListItems") == "2"
        await seen.wait(lambda: "Hangup" in seen.log)
    # unrelated events (and one carrying someone else's ActionID) went to the handler
    assert seen.events() == ["Newexten", "CoreShowChannel", "Hangup"]
    assert seen.frames[1].action_id == "not-ours-1"
    sent_ids = [a["actionid"] for a in server.actions if a["action"] == "CoreShowChannels"]
    assert sent_ids == [listing.response.action_id]


async def test_an_unanswered_action_times_out_and_the_connection_stays(server: FakeAmi) -> None:
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        await server.next_session()
        await client.wait_connected(WAIT)
        with pytest.raises(AmiTimeoutError, match="action=QueueStatus"):
            await client.action({"Action": "QueueStatus"}, timeout=0.2)
        assert (await client.action({"Action": "Ping"})).ok
    assert server.logins == 1


async def test_a_waiting_action_fails_at_once_when_the_connection_drops(server: FakeAmi) -> None:
    async def drop(session: FakeSession, action: dict[str, str]) -> None:
        session.drop()

    server.scripts["originate"] = drop
    seen = Seen()
    client = make_client(server.port, seen)
    async with running(client):
        await server.next_session()
        await client.wait_connected(WAIT)
        # at once: the connection's loss, not the action's timeout (AmiTimeoutError)
        with pytest.raises(AmiConnectionError):
            await client.action({"Action": "Originate"}, timeout=WAIT)
        await seen.wait(lambda: seen.logins == 2)  # and it comes back


async def test_actions_need_a_login_and_our_own_action_id() -> None:
    client = AmiClient("127.0.0.1", 1, USER, SECRET, handler=Seen().handler)
    with pytest.raises(AmiConnectionError, match="not logged in"):
        await client.action({"Action": "Ping"})
    assert SECRET not in repr(client)


async def test_a_failing_on_login_hook_does_not_stop_the_events(server: FakeAmi) -> None:
    seen = Seen()

    async def broken_resync() -> None:
        raise RuntimeError("resync bug")

    client = make_client(server.port, seen, on_login=broken_resync)
    async with running(client):
        session = await server.next_session()
        await session.send(event("StillHere"))
        await seen.wait(lambda: "StillHere" in seen.log)
    assert server.logins == 1


async def test_every_received_frame_is_recorded_and_reads_back(
    server: FakeAmi, tmp_path: Path
) -> None:
    path = tmp_path / "ami.jsonl"
    seen = Seen()
    client = make_client(server.port, seen, record=path)
    async with running(client):
        session = await server.next_session()
        await session.send(event("Newchannel", CallerIDName=NAME, Uniqueid="8.8"))
        await seen.wait(lambda: "Newchannel" in seen.log)
    frames = read_recording(path)
    assert [f.response or f.event for f in frames][:2] == ["Success", "Newchannel"]
    assert frames[1] == seen.frames[0]
    assert frames[1].received_at == seen.frames[0].received_at
    assert SECRET not in path.read_text(encoding="utf-8")


async def test_close_logs_off_and_ends_run(server: FakeAmi) -> None:
    seen = Seen()
    client = make_client(server.port, seen)
    task = asyncio.create_task(client.run())
    session = await server.next_session()
    await client.wait_connected(WAIT)
    await client.close(timeout=WAIT)
    assert task.done() and task.exception() is None
    await asyncio.wait_for(session.ended.wait(), WAIT)
    assert [a["action"] for a in server.actions] == ["Login", "Logoff"]
    assert seen.log == ["<connected>", "<on_login>", "<disconnected>"]
    assert not client.connected
