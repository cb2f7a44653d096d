"""AMI stream recordings (callcenter/pbx/recording.py): one JSON line per frame, read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from callcenter.pbx.frames import Frame
from callcenter.pbx.recording import (
    RecordingWriter,
    frame_from_json,
    frame_to_json,
    read_recording,
)

AT = datetime(2025, 3, 4, 9, 15, 0, 123456, tzinfo=UTC)


def test_a_line_holds_the_utc_time_and_the_ordered_pairs() -> None:
    frame = Frame.of(("Event", "Hangup"), ("ChanVariable", "A=1"), ("ChanVariable", "B=2"))
    line = frame_to_json(frame, AT.astimezone(timezone(timedelta(hours=1))))
    assert json.loads(line) == {
        "at": "2025-03-04T09:15:00.123456+00:00",
        "frame": [["Event", "Hangup"], ["ChanVariable", "A=1"], ["ChanVariable", "B=2"]],
    }


def test_round_trip_keeps_pairs_problems_and_time() -> None:
    frame = Frame(
        pairs=(("Event", "Newchannel"), ("CallerIDName", "Zażółć Gęślą Jaźń")),
        malformed=("garbage",),
        invalid_utf8=True,
    )
    back = frame_from_json(frame_to_json(frame, AT))
    assert back == frame
    assert back.received_at == AT
    assert "Zażółć" in frame_to_json(frame, AT)  # readable, not \\u escapes


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        frame_to_json(Frame.of(("Event", "A")), datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone"):
        frame_from_json('{"at": "2025-01-01T00:00:00", "frame": []}')


def test_writer_appends_and_read_recording_returns_frames_in_order(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    frames = [Frame.of(("Event", str(i)), ("Uniqueid", f"1.{i}")) for i in range(5)]
    writer = RecordingWriter(path)
    for i, frame in enumerate(frames[:3]):
        writer.write(frame, AT + timedelta(seconds=i))
    writer.close()
    writer = RecordingWriter(path)  # appends
    for frame in frames[3:]:
        writer.write(frame, AT)
    writer.flush()
    writer.close()
    writer.close()  # idempotent
    back = read_recording(path)
    assert back == frames
    assert back[1].received_at == AT + timedelta(seconds=1)


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = frame_to_json(Frame.of(("Event", "A")), AT)
    path.write_text(f"{good}\n\nnot json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        read_recording(path)
