"""The frame parser's fast paths (callcenter/pbx/frames.py): whatever the lines, they give
exactly what reading the frame line by line gives, or hand the frame over to it."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.pbx.frames import (
    KNOWN_LINES,
    Frame,
    FrameParser,
    Pair,
    _crlf_pairs,
    _parse_lines_slowly,
    parse_lines,
)

# What parse_lines did before the CRLF fast path: the one regular expression, else the slow
# path (kept here, as the reference the fast path must agree with).
_REFERENCE_PAIR = re.compile(r"^([^\s:]+):[ ]?([^\r\n]*)\r?$", re.MULTILINE)


def reference(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    if not text.startswith("Response: Follows"):
        found = _REFERENCE_PAIR.findall(text)
        if len(found) == text.count("\n") + 1 and "\r\r" not in text:
            return tuple(found), ()
    return _parse_lines_slowly(text)


# Lines as Asterisk writes them, and every kind of line a hostile or broken peer might send.
LINES = [
    "Event: Newchannel",
    "CallerIDName: Zażółć Gęślą",
    "AccountCode: ",
    "Exten: sip:1@2:5060",
    "AppData: a: b",  # the value holds ": "
    "Key:value",  # no space after the colon
    "Empty:",
    "Two:  spaces",
    ": no key",
    "No colon at all",
    "Sp ace: in key",
    "Tab\tkey: v",
    "Nbsp\xa0key: v",  # a non-ASCII space in the key
    " Lead: space",
    "Colon:in: key",
    "Trail: space ",
    "Only\rCR: inside",
    "Response: Follows",
    "--END COMMAND--",
    "",
]


# Lines remembered across every example, as a FrameParser remembers them across frames.
KNOWN: dict[str, Pair] = {}


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(LINES), min_size=1, max_size=8),
    st.lists(st.sampled_from(["\r\n", "\n", "\r\r\n", "\r"]), min_size=7, max_size=7),
)
def test_any_lines_parse_as_reading_them_one_by_one(lines: list[str], ends: list[str]) -> None:
    text = lines[0] + "".join(end + line for end, line in zip(ends, lines[1:], strict=False))
    assert parse_lines(text) == reference(text)
    assert parse_lines(text, KNOWN) == reference(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), min_size=1, max_size=8))
def test_crlf_lines_parse_as_reading_them_one_by_one(lines: list[str]) -> None:
    text = "\r\n".join(lines)
    assert parse_lines(text) == reference(text)
    assert parse_lines(text, KNOWN) == reference(text)


def test_a_frame_as_asterisk_writes_it_takes_the_fast_path() -> None:
    text = "Event: Hangup\r\nCallerIDName: Zażółć\r\nAccountCode: \r\nAppData: a: b"
    known: dict[str, Pair] = {}
    assert (
        _crlf_pairs(text, known)
        == _crlf_pairs(text, known)
        == (
            ("Event", "Hangup"),
            ("CallerIDName", "Zażółć"),
            ("AccountCode", ""),
            ("AppData", "a: b"),  # cut where ": " first comes, as the regular expression does
        )
    )


def test_lines_the_fast_path_cannot_judge_are_handed_over() -> None:
    for line in ("Key:value", "Empty:", ": v", "Sp ace: v", "Nbsp\xa0k: v", "Colon:in: key"):
        text = f"Event: X\r\n{line}"
        assert _crlf_pairs(text, {}) is None, line
    assert _crlf_pairs("Event: X\nUniqueid: 1", {}) is None  # LF alone
    assert _crlf_pairs("Event: X\r\rUniqueid: 1", {}) is None  # CR alone
    # ...and parsed as before: a bad line is reported, a colon in the key ends it.
    assert parse_lines("Event: X\r\nSp ace: v") == ((("Event", "X"),), ("Sp ace: v",))
    assert parse_lines("Event: X\r\nColon:in: key") == ((("Event", "X"), ("Colon", "in: key")), ())


def test_a_known_line_is_read_as_it_was_and_a_bad_one_is_never_known() -> None:
    known: dict[str, Pair] = {}
    assert _crlf_pairs("Event: X\r\nPrivilege: call,all", known) is not None
    assert known == {"Event: X": ("Event", "X"), "Privilege: call,all": ("Privilege", "call,all")}
    # a known line beside a bad one: the frame is still handed over, and read as before
    assert _crlf_pairs("Privilege: call,all\r\nSp ace: v", known) is None
    assert "Sp ace: v" not in known
    assert parse_lines("Privilege: call,all\r\nSp ace: v", known) == (
        (("Privilege", "call,all"),),
        ("Sp ace: v",),
    )


def test_a_parser_forgets_the_lines_it_knows_past_its_bound() -> None:
    """Every event's own Uniqueid and Timestamp are new lines: memory stays bounded."""
    parser = FrameParser()
    wire = b"".join(
        f"Event: Newstate\r\nUniqueid: 1700000000.{n}\r\n\r\n".encode()
        for n in range(KNOWN_LINES + 10)
    )
    frames = parser.feed(wire)
    assert len(frames) == KNOWN_LINES + 10
    assert frames[-1].pairs == (
        ("Event", "Newstate"),
        ("Uniqueid", f"1700000000.{KNOWN_LINES + 9}"),
    )
    assert len(parser._known) <= KNOWN_LINES


def test_as_dict_keeps_a_repeated_keys_first_value_in_its_place() -> None:
    frame = Frame.of(
        ("Event", "Newchannel"), ("ChanVariable", "A=1"), ("Uniqueid", "1.1"),
        ("ChanVariable", "B=2"), ("Linkedid", "1.1"),
    )  # fmt: skip
    event = frame.as_dict()
    assert event == {"Event": "Newchannel", "ChanVariable": "A=1", "Uniqueid": "1.1",
                     "Linkedid": "1.1"}  # fmt: skip
    assert list(event) == ["Event", "ChanVariable", "Uniqueid", "Linkedid"]


# Frames and stretches of a stream, as Asterisk sends them and otherwise.
PIECES = [
    b"Event: Newchannel\r\nCallerIDName: Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\r\nUniqueid: 1.1\r\n\r\n",
    b"Event: Hangup\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n\r\n",
    b"Response: Follows\r\nPrivilege: Command\r\nfree text: here\r\n--END COMMAND--\r\n\r\n",
    b"Event: X\r\nNo colon\r\n\r\n",
    b"Event: Bad\r\nValue: \xff\xfe\r\n\r\n",  # invalid UTF-8
    b"\r\n\r\n",  # an empty frame
    b"garbage only\r\n\r\n",
    b"Event: Lone\rCR: x\r\n\r\n",
    b"Event: Big\r\nData: " + b"x" * 1500 + b"\r\n\r\n",  # oversized at a small bound
]


def cut_one_by_one(parser: FrameParser) -> FrameParser:
    parser._cut_at_once = lambda frames, at: 0  # type: ignore[method-assign]
    return parser


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=10),
    st.lists(st.integers(min_value=1, max_value=4000), max_size=6),
    st.sampled_from([1025, 4096, 256 * 1024]),
)
def test_frames_cut_at_once_are_the_frames_cut_one_by_one(
    pieces: list[bytes], cuts: list[int], bound: int
) -> None:
    stream = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(pieces)
    points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    fast, slow = FrameParser(max_frame_bytes=bound), cut_one_by_one(FrameParser(bound))
    got = [f for chunk in chunks for f in fast.feed(chunk)]
    want = [f for chunk in chunks for f in slow.feed(chunk)]
    assert got == want
    assert (fast.greeting, fast.buffered, fast.dropped_bytes, fast.take_skipped()) == (
        slow.greeting, slow.buffered, slow.dropped_bytes, slow.take_skipped())  # fmt: skip


def test_a_read_ending_in_crlf_crlf_crlf_keeps_the_last_crlf_as_the_loop_does() -> None:
    """CRLF CRLF CRLF holds two overlapping blank lines; the loop cuts at the first."""
    reads = [b"Event: A\r\n\r\n\r\n", b"\r\nNo colon\r\n\r\nEvent: B\r\n\r\n"]
    fast, slow = FrameParser(), cut_one_by_one(FrameParser())
    assert fast.feed(reads[0]) == slow.feed(reads[0]) == [Frame.of(("Event", "A"))]
    assert fast.buffered == slow.buffered == 2
    assert fast.feed(reads[1]) == slow.feed(reads[1])
