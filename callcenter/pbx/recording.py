"""AMI stream recordings: one JSON line per received frame, and reading them back.

A line is ``{"at": "2025-01-02T10:00:00.123456+00:00", "frame": [["Event", "Hangup"], ...]}``;
``"malformed"``, ``"invalid_utf8"`` and ``"truncated"`` are added only when they apply.
`callcenter listen --record FILE` writes them; tests replay them as fixtures, each stamped
with `conf_stamp` of the asterisk-conf/ that produced it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from callcenter.pbx.frames import Frame


def frame_to_json(frame: Frame, at: datetime) -> str:
    """One recording line (without the newline) for a frame received at `at` (aware)."""
    if at.tzinfo is None:
        raise ValueError("recording time must be timezone-aware")
    record: dict[str, Any] = {
        "at": at.astimezone(UTC).isoformat(),
        "frame": [[k, v] for k, v in frame.pairs],
    }
    if frame.malformed:
        record["malformed"] = list(frame.malformed)
    if frame.invalid_utf8:
        record["invalid_utf8"] = True
    if frame.truncated:
        record["truncated"] = True
    return json.dumps(record, ensure_ascii=False)


def frame_from_json(line: str) -> Frame:
    """The frame of one recording line, with `received_at` from its ``"at"``."""
    record = json.loads(line)
    at = datetime.fromisoformat(record["at"])
    if at.tzinfo is None:
        raise ValueError(f"recording time without a timezone: {record['at']!r}")
    return Frame(
        pairs=tuple((str(k), str(v)) for k, v in record["frame"]),
        malformed=tuple(str(m) for m in record.get("malformed", ())),
        invalid_utf8=bool(record.get("invalid_utf8", False)),
        truncated=bool(record.get("truncated", False)),
        received_at=at,
    )


def read_recording(path: Path | str) -> list[Frame]:
    """Every frame of a recording file, in order. Blank lines are skipped.

    Raises ValueError naming the file and line for a line that is not a recorded frame.
    """
    frames: list[Frame] = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                frames.append(frame_from_json(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a recorded AMI frame: {exc}") from exc
    return frames


class RecordingWriter:
    """Appends frames to a recording file; `flush()` after each batch, `close()` at the end."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, frame: Frame, at: datetime) -> None:
        if self._file is not None:
            self._file.write(frame_to_json(frame, at) + "\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# The files of asterisk-conf/ that shape the AMI events a call produces (the dialplan, the
# queue, the features, the phones, the AMI account, the prompts whose length times the
# calls). README.md and the local-asterisk runner do not.
CONF_SHAPING = ("*.conf", "prompts.txt", "make-prompts")


def conf_stamp(conf_dir: Path | str) -> str:
    """A sha256 over the asterisk-conf files that shape events (names and contents, in name
    order): the version of the configuration a recording was made with."""
    folder = Path(conf_dir)
    files = sorted({p for pattern in CONF_SHAPING for p in folder.glob(pattern) if p.is_file()})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()
