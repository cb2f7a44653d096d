"""10 MB of junk on the AMI stream, through the AMI client (callcenter/pbx/ami.py) over a
real loopback socket: the junk is skipped and logged, memory stays bounded, and the next
call's first event (Newchannel) reaches the handler whole, followed by the rest."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callcenter.pbx.ami import AmiClient
from callcenter.pbx.frames import MAX_FRAME_BYTES, Frame

pytestmark = pytest.mark.timeout(60)

WAIT = 20.0
_PIECE = b"\x00garbage \xff\xfe no blank line here "
JUNK = _PIECE * (10 * 1024 * 1024 // len(_PIECE) + 1) + b"\r\n"
NEWCHANNEL = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000002\r\n"
    b"CallerIDNum: 601234567\r\nCallerIDName: Zaz\xc3\xb3\xc5\x82\xc4\x87\r\n"
    b"Uniqueid: 1764500000.2\r\nLinkedid: 1764500000.2\r\n\r\n"
)
HANGUP = b"Event: Hangup\r\nUniqueid: 1764500000.2\r\nLinkedid: 1764500000.2\r\n\r\n"


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Greets, accepts the login, then sends an event, the junk, and the next call."""
    writer.write(b"Asterisk Call Manager/11.0.0\r\n")
    login = await reader.readuntil(b"\r\n\r\n")
    action_id = next(
        line.split(b": ", 1)[1] for line in login.split(b"\r\n") if line.startswith(b"ActionID")
    )
    writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\nMessage: ok\r\n\r\n")
    writer.write(b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n")
    for i in range(0, len(JUNK), 64 * 1024):
        writer.write(JUNK[i : i + 64 * 1024])
        await writer.drain()
    writer.write(NEWCHANNEL + HANGUP)
    await writer.drain()
    await reader.read()  # until the client goes


async def test_after_10_mb_of_junk_the_next_calls_first_event_arrives_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="callcenter.pbx.ami")
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen: list[Frame] = []
    hung_up = asyncio.Event()

    async def handler(frame: Frame) -> None:
        seen.append(frame)
        if frame.event == "Hangup":
            hung_up.set()

    client = AmiClient("127.0.0.1", port, "callcenter", "secret", handler=handler)
    runner = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(hung_up.wait(), WAIT)
    finally:
        await client.close()
        await runner
        server.close()
        await server.wait_closed()
    assert [f.event for f in seen] == ["FullyBooted", "Newchannel", "Hangup"]
    newchannel = seen[1]
    assert newchannel.get("CallerIDNum") == "601234567"
    assert newchannel.get("CallerIDName") == "Zazółć"
    assert newchannel.get("Uniqueid") == newchannel.get("Linkedid") == "1764500000.2"
    assert not newchannel.malformed and not newchannel.truncated
    assert client.counters["oversized"] == 1
    assert client.counters["skipped_bytes"] == len(JUNK)
    skipped = [r for r in caplog.records if "resynchronised" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING
    assert f"bytes={len(JUNK)}" in skipped[0].getMessage()
    assert len(JUNK) > 10 * 1024 * 1024 >= 40 * MAX_FRAME_BYTES  # far past one frame
