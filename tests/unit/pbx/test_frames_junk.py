"""Junk on the AMI stream (callcenter/pbx/frames.py): bounded, skipped to the next frame
boundary, reported, and the frame after it arrives whole, however the stream is cut."""

from __future__ import annotations

import pytest

from callcenter.pbx.frames import FrameParser

LIMIT = 256 * 1024
NEWCHANNEL = (
    b"Event: Newchannel\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDNum: 601234567\r\n"
    b"Uniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n"
)
HANGUP = b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
JUNK_KINDS = {
    "no line breaks": b"x" * (10 * 1024 * 1024) + b"\r\n",
    "lines, no blank line": b"garbage line\r\n" * (10 * 1024 * 1024 // 14),
    "binary": bytes(range(256)).replace(b"\n", b"").replace(b"\r", b"") * 41_000 + b"\n",
}


def _feed(parser: FrameParser, stream: bytes, step: int) -> list[str | None]:
    events: list[str | None] = []
    for i in range(0, len(stream), step):
        for frame in parser.feed(stream[i : i + step]):
            events.append("<truncated>" if frame.truncated else frame.event)
        assert parser.buffered <= LIMIT + 16  # never more than one frame's worth
    return events


@pytest.mark.parametrize("kind", sorted(JUNK_KINDS))
@pytest.mark.parametrize("step", [65536, 1_000_003, 10 * 1024 * 1024 + 100_000])
def test_after_10_mb_of_junk_the_next_event_arrives_whole(kind: str, step: int) -> None:
    junk = JUNK_KINDS[kind]
    stream = b"Event: Before\r\n\r\n" + junk + NEWCHANNEL + HANGUP
    parser = FrameParser()
    events = _feed(parser, stream, step)
    assert events == ["Before", "<truncated>", "Newchannel", "Hangup"]
    skipped = parser.take_skipped()
    assert sum(skipped) == len(junk) and len(skipped) == 1
    assert parser.take_skipped() == []  # taken once


def test_the_newchannel_after_junk_has_every_field() -> None:
    parser = FrameParser()
    frames = parser.feed(b"y" * (LIMIT * 2) + b"\n" + NEWCHANNEL)
    assert frames[0].truncated
    assert frames[1].as_dict() == {
        "Event": "Newchannel", "Channel": "PJSIP/trunk-00000001", "CallerIDNum": "601234567",
        "Uniqueid": "1.1", "Linkedid": "1.1",
    }  # fmt: skip


def test_a_frame_start_split_across_reads_after_junk_is_found() -> None:
    parser = FrameParser()
    assert parser.feed(b"j" * (LIMIT + 100))[0].truncated
    events: list[str | None] = []
    for piece in (b"jj\r", b"\nRes", b"ponse: Success\r\nActionID: a1\r\n", b"\r\n"):
        events += [f.response for f in parser.feed(piece)]
    assert events == ["Success"]
    assert parser.take_skipped() == [LIMIT + 100 + 4]  # with the junk's last line end


def test_junk_ended_by_a_blank_line_still_resynchronises_there() -> None:
    parser = FrameParser()
    frames = parser.feed(b"Output: " + b"z" * (LIMIT + 1) + b"\r\n\r\n" + HANGUP)
    assert [f.truncated for f in frames] == [True, False]
    assert frames[1].event == "Hangup"


def test_a_big_frame_that_is_not_junk_is_still_reported_once() -> None:
    big = b"Event: Huge\r\nUniqueid: 9.9\r\nOutput: " + b"o" * (LIMIT + 10) + b"\r\n\r\n"
    for step in (1000, len(big) + len(HANGUP)):
        parser = FrameParser()
        events = _feed(parser, big + HANGUP, step)
        assert events == ["<truncated>", "Hangup"], step
