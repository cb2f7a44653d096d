"""The AMI wire format (callcenter/pbx/frames.py): pure parser, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.pbx.frames import (
    HEAD_BYTES,
    ActionReply,
    Frame,
    FrameParser,
    decode_frame,
    encode_action,
)

NAME = "Zażółć Gęślą Jaźń"
GREETING = b"Asterisk Call Manager/11.0.0\r\n"
STREAM = (
    GREETING
    + b"Response: Success\r\nActionID: l1\r\nMessage: Authentication accepted\r\n\r\n"
    + (
        "Event: Newchannel\r\nChannel: PJSIP/trunk-00000001\r\n"
        f"CallerIDNum: +48601234567\r\nCallerIDName: {NAME}\r\n"
        "Uniqueid: 1700000000.1\r\nLinkedid: 1700000000.1\r\n\r\n"
    ).encode()
    + (
        f"Event: Hangup\r\nCallerIDName: {NAME}\r\nChanVariable: CC_CALL=42\r\n"
        "ChanVariable: CC_ROUTE=queue\r\nUniqueid: 1700000000.1\r\n\r\n"
    ).encode()
)


def parse_all(chunks: list[bytes]) -> tuple[list[Frame], FrameParser]:
    parser = FrameParser()
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(parser.feed(chunk))
    return frames, parser


def test_a_stream_parses_into_its_frames_with_polish_letters_intact() -> None:
    frames, parser = parse_all([STREAM])
    assert parser.greeting == "Asterisk Call Manager/11.0.0"
    assert [f.event or f.response for f in frames] == ["Success", "Newchannel", "Hangup"]
    assert frames[1].get("CallerIDName") == NAME
    assert frames[2].get("CallerIDName") == NAME
    assert not any(f.malformed or f.invalid_utf8 or f.truncated for f in frames)
    assert parser.buffered == 0


def test_split_at_every_byte_position_gives_the_same_frames() -> None:
    whole, _ = parse_all([STREAM])
    for cut in range(1, len(STREAM)):
        split, parser = parse_all([STREAM[:cut], STREAM[cut:]])
        assert split == whole, f"cut at byte {cut}"
        assert parser.greeting == "Asterisk Call Manager/11.0.0"


def test_one_byte_at_a_time_gives_the_same_frames() -> None:
    whole, _ = parse_all([STREAM])
    split, _ = parse_all([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert split == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_cutting_of_the_stream_gives_the_same_frames(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    assert parse_all(chunks)[0] == parse_all([STREAM])[0]


def test_greeting_is_optional_and_only_at_the_start() -> None:
    frames, parser = parse_all([b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n"])
    assert parser.greeting is None
    assert frames == [Frame.of(("Event", "FullyBooted"), ("Status", "Fully Booted"))]
    later = b"Event: A\r\n\r\nAsterisk Call Manager/11.0.0\r\n\r\n"
    frames, parser = parse_all([later])
    assert parser.greeting is None
    assert frames[1].malformed == ("Asterisk Call Manager/11.0.0",)


def test_greeting_split_across_reads() -> None:
    frames, parser = parse_all([b"Asterisk Call", b" Manager/6.0.0\r", b"\nEvent: A\r\n\r\n"])
    assert parser.greeting == "Asterisk Call Manager/6.0.0"
    assert frames == [Frame.of(("Event", "A"))]


def test_bare_lf_line_ends_are_tolerated() -> None:
    frames, _ = parse_all([b"Event: A\nUniqueid: 1\n\nEvent: B\r\n\nEvent: C\r\n\r\n"])
    assert frames == [
        Frame.of(("Event", "A"), ("Uniqueid", "1")),
        Frame.of(("Event", "B")),
        Frame.of(("Event", "C")),
    ]


def test_extra_blank_lines_between_frames_make_no_empty_frames() -> None:
    frames, _ = parse_all([b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\n\r\nEvent: B\r\n\r\n"])
    assert [f.event for f in frames] == ["A", "B"]


def test_a_line_without_colon_is_reported_and_the_frame_kept() -> None:
    frames, _ = parse_all([b"Event: Hangup\r\nthis is garbage\r\nUniqueid: 1.2\r\n\r\n"])
    assert frames == [
        Frame(pairs=(("Event", "Hangup"), ("Uniqueid", "1.2")), malformed=("this is garbage",))
    ]


def test_a_frame_of_garbage_only_is_reported_with_no_pairs() -> None:
    frames, _ = parse_all([b"garbage\r\nmore\r\n\r\nEvent: A\r\n\r\n"])
    assert frames[0].pairs == ()
    assert frames[0].malformed == ("garbage", "more")
    assert frames[1] == Frame.of(("Event", "A"))


def test_values_keep_colons_and_lose_only_the_one_space_after_the_key() -> None:
    frame = decode_frame(b"Event: X\r\nExten: sip:1@2:5060\r\nPausedReason: \r\nEmpty:\r\nTight:v")
    assert frame is not None
    assert frame.pairs == (
        ("Event", "X"),
        ("Exten", "sip:1@2:5060"),
        ("PausedReason", ""),
        ("Empty", ""),
        ("Tight", "v"),
    )


def test_repeated_keys_are_kept_in_order() -> None:
    frame = parse_all([STREAM])[0][2]
    assert frame.get_all("ChanVariable") == ["CC_CALL=42", "CC_ROUTE=queue"]
    assert frame.get_all("chanvariable") == ["CC_CALL=42", "CC_ROUTE=queue"]
    assert frame.variables() == {"CC_CALL": "42", "CC_ROUTE": "queue"}
    assert frame.as_dict()["ChanVariable"] == "CC_CALL=42"  # first value; get_all for all
    assert [k for k, _ in frame.pairs] == [
        "Event",
        "CallerIDName",
        "ChanVariable",
        "ChanVariable",
        "Uniqueid",
    ]


def test_frame_helpers_are_case_insensitive() -> None:
    frame = Frame.of(("Response", "Success"), ("ActionID", "a1"), ("Ping", "Pong"))
    assert frame.get("ping") == "Pong"
    assert frame.get("PING") == "Pong"
    assert frame.get("missing") is None
    assert frame.get("missing", "") == ""
    assert "actionid" in frame
    assert (frame.response, frame.action_id, frame.event) == ("Success", "a1", None)


def test_invalid_utf8_is_replaced_not_dropped_and_flagged() -> None:
    frames, _ = parse_all([b"Event: A\r\nCallerIDName: Za\xff\xfe\r\n\r\nEvent: B\r\n\r\n"])
    assert frames[0].get("CallerIDName") == "Za\ufffd\ufffd"
    assert frames[0].invalid_utf8
    assert frames[1] == Frame.of(("Event", "B"))
    assert not frames[1].invalid_utf8


def test_an_oversized_frame_is_reported_dropped_and_parsing_resumes() -> None:
    limit = 4096
    big = b"Event: Huge\r\nUniqueid: 9.9\r\n" + b"Output: " + b"x" * 10_000 + b"\r\n\r\n"
    stream = b"Event: Before\r\n\r\n" + big + b"Event: After\r\n\r\n"
    for chunks in ([stream], [stream[i : i + 700] for i in range(0, len(stream), 700)]):
        parser = FrameParser(max_frame_bytes=limit)
        frames: list[Frame] = []
        for chunk in chunks:
            frames.extend(parser.feed(chunk))
            assert parser.buffered <= limit + 3  # never more than one frame's worth
        assert [f.event for f in frames] == ["Before", "Huge", "After"]
        assert frames[1].truncated
        assert frames[1].get("Uniqueid") == "9.9"
        assert not frames[0].truncated and not frames[2].truncated
        assert parser.dropped_bytes >= 10_000


def test_oversized_report_is_the_same_however_the_stream_is_cut() -> None:
    limit = 2048
    stream = b"Event: Huge\r\n" + b"A: b\r\n" * 1000 + b"\r\nEvent: After\r\n\r\n"
    whole = FrameParser(max_frame_bytes=limit).feed(stream)
    for step in (1, 3, 64, 1000):
        parser = FrameParser(max_frame_bytes=limit)
        frames = [f for i in range(0, len(stream), step) for f in parser.feed(stream[i : i + step])]
        assert frames == whole, f"step {step}"
    assert whole[0].truncated and len(whole[0].pairs) <= HEAD_BYTES // 6


def test_a_frame_that_never_ends_keeps_memory_bounded() -> None:
    parser = FrameParser(max_frame_bytes=2048)
    reports = []
    for _ in range(1000):
        reports += parser.feed(b"Output: " + b"y" * 1000 + b"\r\n")
        assert parser.buffered <= 2048 + 3
    assert len(reports) == 1 and reports[0].truncated
    assert parser.feed(b"\r\nEvent: Back\r\n\r\n") == [Frame.of(("Event", "Back"))]


def test_old_style_command_output_becomes_output_pairs() -> None:
    raw = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n"
        b"Name/username   Host\r\nop1/op1   127.0.0.1\r\n--END COMMAND--\r\n\r\n"
    )
    (frame,) = FrameParser().feed(raw)
    assert frame.response == "Follows"
    assert frame.get_all("Output") == ["Name/username   Host", "op1/op1   127.0.0.1"]
    assert frame.malformed == ()


def test_asterisk_22_command_output_lines_are_repeated_keys() -> None:
    raw = (
        "Response: Success\r\nActionID: c1\r\nMessage: Command output follows\r\n"
        "Output: line one\r\nOutput: Zażółć: two\r\n\r\n"
    ).encode()
    (frame,) = FrameParser().feed(raw)
    assert frame.get_all("Output") == ["line one", "Zażółć: two"]


def test_feed_stamps_frames_with_the_given_time_which_is_not_part_of_equality() -> None:
    at = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
    (frame,) = FrameParser().feed(b"Event: A\r\n\r\n", at)
    assert frame.received_at == at
    assert frame == Frame.of(("Event", "A"))


def test_max_frame_bytes_must_leave_room_for_the_head() -> None:
    with pytest.raises(ValueError, match="max_frame_bytes"):
        FrameParser(max_frame_bytes=HEAD_BYTES)


def test_encode_action_repeats_list_values_and_ends_with_a_blank_line() -> None:
    data = encode_action({"Action": "Originate", "Variable": ["A=1", "B=Gęś"], "ActionID": "x"})
    assert (
        data
        == "Action: Originate\r\nVariable: A=1\r\nVariable: B=Gęś\r\nActionID: x\r\n\r\n".encode()
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"Action": "Ping\r\nAction: Originate"},
        {"Action": "Ping", "Variable": ["A=1\nB=2"]},
        {"Bad: key": "v"},
        {"": "v"},
    ],
)
def test_encode_action_refuses_header_injection(fields: dict[str, str | list[str]]) -> None:
    with pytest.raises(ValueError):
        encode_action(fields)


def test_action_reply_single_response() -> None:
    reply = ActionReply()
    result = reply.add(Frame.of(("Response", "Success"), ("Ping", "Pong")))
    assert result is not None and result.ok and result.events == ()


def test_action_reply_list_collects_events_up_to_complete() -> None:
    reply = ActionReply()
    assert reply.add(Frame.of(("Response", "Success"), ("EventList", "start"))) is None
    assert reply.add(Frame.of(("Event", "CoreShowChannel"), ("Channel", "a"))) is None
    assert reply.add(Frame.of(("Event", "CoreShowChannel"), ("Channel", "b"))) is None
    result = reply.add(Frame.of(("Event", "CoreShowChannelsComplete"), ("EventList", "Complete")))
    assert result is not None and result.ok
    assert [e.get("Channel") for e in result.items] == ["a", "b"]
    assert result.events[-1].event == "CoreShowChannelsComplete"


def test_action_reply_error_ends_at_once() -> None:
    reply = ActionReply()
    result = reply.add(Frame.of(("Response", "Error"), ("Message", "Permission denied")))
    assert result is not None and not result.ok
