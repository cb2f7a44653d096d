"""The AMI wire format, without I/O: bytes in, frames out (and actions out as bytes).

Theory of operation
-------------------
The Asterisk Manager Interface is a line protocol. On connect the server sends one greeting
line (``Asterisk Call Manager/11.0.0``) with no blank line after it; from then on every
message, in both directions, is a *frame*: ``Key: Value`` lines ended by a blank line
(``\\r\\n\\r\\n``; a bare ``\\n\\n`` is tolerated). A key may repeat (``ChanVariable``,
``Output``) and order matters, so a frame is the ordered tuple of its pairs.

`FrameParser.feed` takes whatever bytes a read returned and gives back the frames completed
by them. It buffers *bytes* and decodes a frame only once it is complete, so a UTF-8 letter
split across two reads survives; invalid UTF-8 is replaced (U+FFFD), never dropped, and the
frame says so (`Frame.invalid_utf8`). The result does not depend on how the stream was cut.

What is wrong is reported on the frame, not raised, so the shell can log it and go on:
- a line without a colon is left out of the pairs and kept in `Frame.malformed`;
- a frame bigger than `max_frame_bytes` (or that much junk without a blank line) is not kept:
  one `Frame` with `truncated=True` and the pairs of its first `HEAD_BYTES` (to say which
  event it was) is emitted, the rest is discarded up to the next frame boundary, where parsing
  resynchronises: a blank line, or a line that starts a frame (``Event:``/``Response:``), so
  the frame that follows junk arrives whole. How much each stretch skipped is kept for the
  shell to log (`take_skipped`). Memory stays bounded.

Old-style command output (``Response: Follows`` ... ``--END COMMAND--``) has free-text lines:
in such a frame they become ``Output`` pairs, as Asterisk 22 sends them anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

GREETING_PREFIX = b"Asterisk Call Manager/"
MAX_FRAME_BYTES = 256 * 1024
HEAD_BYTES = 1024  # of an oversized frame, parsed to report which event it was
_MAX_GREETING_BYTES = 256
_END_OF_FRAME = re.compile(rb"\r?\n\r?\n")
_LONGEST_TERMINATOR = 4
# Where a frame starts after junk: a line that opens a frame as Asterisk writes them.
_FRAME_START = re.compile(rb"\n(?:Event|Response): ")
_LONGEST_START = len(b"\nResponse: ")
_END_COMMAND = "--END COMMAND--"


@dataclass(frozen=True, slots=True)
class Frame:
    """One AMI message: its `(key, value)` pairs in the order received.

    `received_at` (UTC, set by whoever read it from the network) is not part of equality.
    """

    pairs: tuple[tuple[str, str], ...]
    malformed: tuple[str, ...] = ()
    invalid_utf8: bool = False
    truncated: bool = False
    received_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def of(cls, *pairs: tuple[str, str], received_at: datetime | None = None) -> Frame:
        """A frame from pairs: ``Frame.of(("Event", "Hangup"), ("Uniqueid", "1.2"))``."""
        return cls(pairs=tuple(pairs), received_at=received_at)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of `key`: the first spelled exactly so, else the first compared
        case-insensitively."""
        for k, v in self.pairs:  # Asterisk's own spelling first: the common case, cheaply
            if k == key:
                return v
        wanted = key.lower()
        for k, v in self.pairs:
            if k.lower() == wanted:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        """Every value of a repeated key, in order."""
        wanted = key.lower()
        return [v for k, v in self.pairs if k.lower() == wanted]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """Keys as sent; a repeated key keeps its first value (see `get_all`)."""
        result = dict(self.pairs)
        if len(result) != len(self.pairs):  # a repeated key: dict() kept its last value
            result.update(reversed(self.pairs))  # the first one last, each key where it was
        return result

    def variables(self, key: str = "ChanVariable") -> dict[str, str]:
        """``ChanVariable: CC_CALL=42`` lines as ``{"CC_CALL": "42"}`` (also DestChanVariable)."""
        result: dict[str, str] = {}
        for item in self.get_all(key):
            name, _, value = item.partition("=")
            result[name] = value
        return result

    def describe(self) -> str:
        """A short key=value label for log lines (never the whole frame)."""
        parts = [
            f"{name}={value}"
            for name in ("Event", "Response", "ActionID", "Uniqueid", "Linkedid")
            if (value := self.get(name)) is not None
        ]
        return " ".join(parts) or f"keys={[k for k, _ in self.pairs[:5]]}"


# One well-formed `Key: value` line; keys have no space or colon. Used for the fast paths.
# (A greedy class, not a lazy `.*?`: no backtracking at every character of a value.)
_PAIR = re.compile(r"^([^\s:]+):[ ]?([^\r\n]*)\r?$", re.MULTILINE)
_NOT_IN_KEY = re.compile(r"[\s:]")  # what `_PAIR`'s key may not hold


Pair = tuple[str, str]
KNOWN_LINES = 8192  # lines a parser remembers as pairs; it forgets them all past that


def parse_lines(
    text: str, known: dict[str, Pair] | None = None
) -> tuple[tuple[Pair, ...], tuple[str, ...]]:
    """The pairs and the malformed lines of one decoded frame (without its blank line).
    `known`: lines already read, as their pairs (a FrameParser's own; kept up to date)."""
    if not text.startswith("Response: Follows"):
        # Fast paths: every line a pair (how Asterisk writes its frames); else line by line.
        if (pairs := _crlf_pairs(text, {} if known is None else known)) is not None:
            return pairs, ()
        found = _PAIR.findall(text)
        if len(found) == text.count("\n") + 1 and "\r\r" not in text:
            return tuple(found), ()
    return _parse_lines_slowly(text)


def _crlf_pairs(text: str, known: dict[str, Pair]) -> tuple[Pair, ...] | None:
    """The pairs when every line is `Key: value` ended by CRLF, as Asterisk writes them
    (exactly what `_PAIR` finds then); None when a line is anything else, for `_PAIR` and
    the slow path to judge.

    Most lines come again and again (`Privilege: call,all`, a caller's number on every
    event of the call...): a line found in `known` is that pair, looked up in C; each other
    line is cut where ": " first comes, its key checked, and remembered (all are forgotten
    once KNOWN_LINES are: the ids and times that never come back do not pile up)."""
    lines = text.split("\r\n")
    breaks = len(lines) - 1
    if text.count("\r") != breaks or text.count("\n") != breaks:
        return None  # a CR or an LF on its own
    pairs = list(map(known.get, lines))
    at = 0
    for _ in range(pairs.count(None)):  # the new lines, found in C
        at = pairs.index(None, at)
        line = lines[at]
        key, colon, value = line.partition(": ")
        if not colon or not key or _NOT_IN_KEY.search(key):
            return None  # no ": ", an empty key, or a space or a colon in it (`K:a: b`)
        if len(known) >= KNOWN_LINES:
            known.clear()
        pairs[at] = known[line] = (key, value)
    return tuple(pairs)  # type: ignore[arg-type]


def _parse_lines_slowly(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    pairs: list[tuple[str, str]] = []
    malformed: list[str] = []
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    first = next((line for line in lines if line), "")
    follows = first.replace(" ", "").lower() == "response:follows"
    for line in lines:
        if not line:
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if colon and key and " " not in key:
            pairs.append((key, value.removeprefix(" ")))
        elif follows:
            if line != _END_COMMAND:
                pairs.append(("Output", line))
        else:
            malformed.append(line)
    return tuple(pairs), tuple(malformed)


def decode_frame(
    raw: bytes, *, received_at: datetime | None = None, known: dict[str, Pair] | None = None
) -> Frame | None:
    """One complete frame's bytes (without the blank line) as a Frame; None if empty.
    `known`: see parse_lines."""
    try:
        text, invalid = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, invalid = raw.decode("utf-8", errors="replace"), True
    pairs, malformed = parse_lines(text, known)
    if not pairs and not malformed:
        return None
    return Frame(pairs, malformed, invalid, received_at=received_at)


def _head_frame(raw: bytes, received_at: datetime | None) -> Frame:
    """The report for an oversized frame: the pairs of its first complete lines."""
    head = raw[:HEAD_BYTES]
    head = head[: head.rfind(b"\n") + 1] if b"\n" in head else b""
    text = head.decode("utf-8", errors="replace")
    pairs, _ = parse_lines(text)
    return Frame(pairs, (), "\ufffd" in text, truncated=True, received_at=received_at)


class FrameParser:
    """Incremental AMI parser: `feed(bytes)` returns the frames those bytes completed."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        if max_frame_bytes <= HEAD_BYTES:
            raise ValueError(f"max_frame_bytes must exceed {HEAD_BYTES}")
        self.max_frame_bytes = max_frame_bytes
        self.greeting: str | None = None
        self.dropped_bytes = 0  # of oversized frames, in total
        self._buffer = bytearray()
        self._scan_from = 0
        self._at_start = True
        self._discarding = False
        self._skipping = 0  # bytes of the stretch being discarded
        self._skipped: list[int] = []  # bytes of each stretch discarded, not yet taken
        self._known: dict[str, Pair] = {}  # lines read lately, as their pairs (parse_lines)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes, at: datetime | None = None) -> list[Frame]:
        """Add bytes; return the complete frames, each stamped with `at`."""
        self._buffer += data
        frames: list[Frame] = []
        if self._at_start and not self._take_greeting():
            return frames
        start = 0  # frames are cut at offsets; the buffer is shortened once per feed
        buffer = self._buffer
        # Asterisk ends every line with CRLF: then a frame ends exactly at CRLF CRLF, and a
        # plain search finds it; other line ends go through the regular expression.
        crlf_only = buffer.count(b"\n") == buffer.count(b"\r\n")
        if crlf_only and not self._discarding:
            start = self._cut_at_once(frames, at)
        while True:
            at_from = max(start, self._scan_from)
            if crlf_only:
                found = buffer.find(b"\r\n\r\n", at_from)
                span = None if found < 0 else (found, found + 4)
            else:
                match = _END_OF_FRAME.search(buffer, at_from)
                span = None if match is None else match.span()
            if self._discarding and (resync := self._frame_start(start, span)) is not None:
                self._end_skip(resync - start)  # the junk ends where a frame starts
                start = resync
                continue
            if span is None:
                del self._buffer[:start]
                self._scan_from = max(0, len(self._buffer) - (_LONGEST_TERMINATOR - 1))
                self._bound_partial_frame(frames, at)
                return frames
            raw = bytes(buffer[start : span[0]])
            self._scan_from = 0
            if self._discarding:
                self._end_skip(span[1] - start)
            elif len(raw) > self.max_frame_bytes:
                frames.append(_head_frame(raw, at))
                match = _FRAME_START.search(buffer, start, span[0])
                if match is not None:  # junk, then a frame: skip the junk, keep the frame
                    self._end_skip(match.start() + 1 - start)
                    start = match.start() + 1
                    continue
                self._end_skip(span[1] - start)
            elif (frame := decode_frame(raw, received_at=at, known=self._known)) is not None:
                frames.append(frame)
            start = span[1]

    def _cut_at_once(self, frames: list[Frame], at: datetime | None) -> int:
        """The fast path, for a buffer whose lines all end in CRLF: every frame it completes,
        decoded together and cut at each CRLF CRLF, as the loop in `feed` would cut them one
        by one; where it stopped. It leaves what it cannot judge so to the loop: a stretch
        long enough to hold an oversized frame, invalid UTF-8 (flagged frame by frame)."""
        end = self._buffer.rfind(b"\r\n\r\n", self._scan_from)
        if end < 0 or end > self.max_frame_bytes:
            return 0
        try:
            text = self._buffer[: end + 4].decode("utf-8")
        except UnicodeDecodeError:
            return 0
        parts = text.split("\r\n\r\n")
        # After the last cut: nothing, or a CRLF when the last CRLF CRLF overlapped the one
        # before it (CRLF CRLF CRLF): the loop cuts there too, and so keeps that CRLF.
        rest = parts.pop()
        for part in parts:
            pairs, malformed = parse_lines(part, self._known)
            if pairs or malformed:  # (an empty frame is none)
                frames.append(Frame(pairs, malformed, received_at=at))
        self._scan_from = 0
        return end + 4 - len(rest)

    def _take_greeting(self) -> bool:
        """Consume the greeting line if the stream starts with one; False: need more bytes."""
        if not GREETING_PREFIX.startswith(bytes(self._buffer[: len(GREETING_PREFIX)])):
            self._at_start = False  # not a greeting: parse as frames
            return True
        newline = self._buffer.find(b"\n", 0, _MAX_GREETING_BYTES + 1)
        if newline < 0:
            if len(self._buffer) > _MAX_GREETING_BYTES:
                self._at_start = False  # too long for a greeting: parse as frames
                return True
            return False
        line = bytes(self._buffer[:newline]).rstrip(b"\r")
        self.greeting = line.decode("utf-8", errors="replace")
        del self._buffer[: newline + 1]
        self._at_start = False
        return True

    def take_skipped(self) -> list[int]:
        """The size in bytes of each stretch discarded since the last call (then forgotten)."""
        skipped, self._skipped = self._skipped, []
        return skipped

    def _frame_start(self, start: int, span: tuple[int, int] | None) -> int | None:
        """Where a frame starts after junk, if before the blank line at `span`."""
        end = len(self._buffer) if span is None else span[0]
        match = _FRAME_START.search(self._buffer, start, end)
        return None if match is None else match.start() + 1

    def _end_skip(self, count: int) -> None:
        self.dropped_bytes += count
        self._skipped.append(self._skipping + count)
        self._skipping = 0
        self._discarding = False
        self._scan_from = 0

    def _bound_partial_frame(self, frames: list[Frame], at: datetime | None) -> None:
        """Keep at most max_frame_bytes of an unfinished frame; report and discard beyond."""
        # A blank line, or a line that starts a frame, may straddle the next read.
        keep = max(_LONGEST_TERMINATOR, _LONGEST_START) - 1
        if self._discarding:
            if len(self._buffer) > keep:
                self._skip(len(self._buffer) - keep)
            return
        if len(self._buffer) > self.max_frame_bytes + keep:
            frames.append(_head_frame(bytes(self._buffer[:HEAD_BYTES]), at))
            self._skip(len(self._buffer) - keep)
            self._discarding = True

    def _skip(self, count: int) -> None:
        self.dropped_bytes += count
        self._skipping += count
        del self._buffer[:count]
        self._scan_from = 0


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The answer to an action: its response and, for a list action, its events (the last
    one being the ``...Complete`` event)."""

    response: Frame
    events: tuple[Frame, ...] = ()

    @property
    def ok(self) -> bool:
        return (self.response.response or "").lower() in ("success", "follows")

    @property
    def items(self) -> tuple[Frame, ...]:
        """The list's events without the closing ``...Complete`` event."""
        return tuple(e for e in self.events if not _ends_list(e))


def _ends_list(frame: Frame) -> bool:
    return (frame.get("EventList") or "").lower() == "complete" or (frame.event or "").endswith(
        "Complete"
    )


class ActionReply:
    """Gathers the frames that carry one action's ActionID, in order: the response, then, if
    it says ``EventList: start``, the events up to the one with ``EventList: Complete``."""

    def __init__(self) -> None:
        self.response: Frame | None = None
        self.events: list[Frame] = []

    def add(self, frame: Frame) -> ActionResult | None:
        """Take the next frame; returns the result once the answer is complete."""
        if self.response is None and frame.response is not None:
            self.response = frame
            if (frame.get("EventList") or "").lower() == "start":
                return None
            return ActionResult(frame, tuple(self.events))
        self.events.append(frame)
        if self.response is not None and _ends_list(frame):
            return ActionResult(self.response, tuple(self.events))
        return None


def encode_action(fields: Mapping[str, str | Sequence[str]]) -> bytes:
    """An action frame: one ``Key: value`` line per value (lists repeat the key), blank line.

    Raises ValueError for a key or value with a line break (that would inject a header).
    """
    lines: list[str] = []
    for key, value in _items(fields):
        if not key or any(ch in key for ch in ":\r\n") or any(ch in value for ch in "\r\n"):
            raise ValueError(f"AMI header {key!r} or its value has a line break or colon")
        lines.append(f"{key}: {value}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def _items(fields: Mapping[str, str | Sequence[str]]) -> Iterator[tuple[str, str]]:
    for key, value in fields.items():
        if isinstance(value, str):
            yield key, value
        else:
            for item in value:
                yield key, item
