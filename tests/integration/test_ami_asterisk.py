"""The AMI connection (callcenter/pbx/ami.py) against the project's real local Asterisk 22.

Asterisk is started by `asterisk-conf/local-asterisk` through the `local_asterisk` fixture
(left running if it was already); AMI on 127.0.0.1:5038 with the test account of
asterisk-conf/manager.conf. Only read-only actions are sent: other tests share this Asterisk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asterisk_harness import AMI_ADDRESS, AMI_SECRET, AMI_USER, LocalAsterisk
from conftest_asterisk import local_asterisk

from callcenter.pbx.ami import AmiAuthError, AmiClient, Backoff, ConnectionEvent
from callcenter.pbx.frames import Frame
from tests.support.waits import read_from, until

__all__ = ["local_asterisk"]  # the fixture, imported for pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(1200),  # the first run may provision the Asterisk chroot
]

WAIT = 10.0


class Seen:
    def __init__(self) -> None:
        self.events: list[Frame] = []
        self.states: list[str] = []
        self.logins = 0
        self.logged_in = asyncio.Event()

    async def handler(self, frame: Frame) -> None:
        self.events.append(frame)

    async def on_state(self, change: ConnectionEvent) -> None:
        self.states.append(change.state)

    async def on_login(self) -> None:
        self.logins += 1
        self.logged_in.set()


@contextlib.asynccontextmanager
async def connected(seen: Seen, **options: Any) -> AsyncIterator[AmiClient]:
    client = AmiClient(
        AMI_ADDRESS[0],
        AMI_ADDRESS[1],
        AMI_USER,
        AMI_SECRET,
        handler=seen.handler,
        on_login=seen.on_login,
        on_state=seen.on_state,
        backoff=Backoff(initial=0.1, maximum=1.0),
        **options,
    )
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(seen.logged_in.wait(), WAIT)
        yield client
    finally:
        await client.close(timeout=WAIT)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, WAIT)


async def test_login_ping_and_list_actions_against_asterisk(
    local_asterisk: LocalAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="callcenter")
    seen = Seen()
    async with connected(seen) as client:
        assert client.connected
        ping = await client.action({"Action": "Ping"})
        assert ping.ok and ping.response.get("Ping") == "Pong"

        channels = await client.action({"Action": "CoreShowChannels"})
        assert channels.ok
        assert channels.response.get("EventList") == "start"
        complete = channels.events[-1]
        assert complete.event == "CoreShowChannelsComplete"
        assert complete.get("EventList") == "Complete"
        assert int(complete.get("ListItems") or -1) == len(channels.items)
        assert all(e.event == "CoreShowChannel" for e in channels.items)
        assert {e.action_id for e in channels.events} == {channels.response.action_id}

        queues = await client.action({"Action": "QueueStatus", "Queue": "support"})
        assert queues.ok
        assert [e.get("Queue") for e in queues.items if e.event == "QueueParams"] == ["support"]

        version = await client.action({"Action": "Command", "Command": "core show version"})
        assert version.ok
        assert any(line.startswith("Asterisk 2") for line in version.response.get_all("Output"))
    # list events went to their actions, not to the handler
    assert not any(e.event in ("CoreShowChannel", "QueueParams") for e in seen.events)
    assert seen.states == ["connected", "disconnected"]
    assert AMI_SECRET not in caplog.text


def _pongs(recording: Path) -> int:
    """Asterisk's answers to Ping in the client's recording of every frame it received
    (a JSON line per frame: `["Ping", "Pong"]` is one of its pairs)."""
    return read_from(recording).count('["Ping", "Pong"]')


async def test_the_watchdog_accepts_asterisks_pong(
    local_asterisk: LocalAsterisk, tmp_path: Path
) -> None:
    seen = Seen()
    recording = tmp_path / "ami.jsonl"
    async with connected(seen, ping_interval=0.1, ping_timeout=2.0, record=recording) as client:
        await until(
            lambda: _pongs(recording) >= 10, WAIT, "ten Pongs from Asterisk to the watchdog"
        )
        assert client.connected
        assert client.counters["logins"] == 1  # every Pong was taken: no new login
    assert seen.logins == 1


async def test_a_wrong_secret_is_an_auth_error_quickly(local_asterisk: LocalAsterisk) -> None:
    client = AmiClient(
        AMI_ADDRESS[0],
        AMI_ADDRESS[1],
        AMI_USER,
        "definitely-not-the-secret",
        handler=Seen().handler,
        max_login_attempts=2,
        backoff=Backoff(initial=0.05, maximum=0.1),
    )
    with pytest.raises(AmiAuthError, match="Authentication failed"):  # not retried forever
        await asyncio.wait_for(client.run(), WAIT)
