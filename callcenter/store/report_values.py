"""A service-level tally as a row of `report_tallies` and back (the one mapping between the
table and domain/report_tallies.py's `Tally`), and tallies being merged as plain lists.
Values (waits, talks, rings) are stored as hex of little-endian doubles, so that joining the
texts (string_agg, group_concat) joins the values, exactly."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from callcenter.domain import report_tallies as core


def encode(values: Sequence[float]) -> str | None:
    """The values as hex of little-endian doubles: texts joined are the values joined."""
    if not values:
        return None
    packed = array("d", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes().hex()


def decode(text: str | None) -> list[float]:
    if not text:
        return []
    packed = array("d")
    packed.frombytes(bytes.fromhex(text))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tolist()


def tally_row(day: date, kind: str, key: str, t: core.Tally) -> dict[str, Any]:
    values = {name: getattr(t, name) for name in core.COUNTS}
    return {
        "day": day, "kind": kind, "key": key, **values,
        "waits": encode(t.waits), "talks": encode(t.talks), "rings": encode(t.rings),
    }  # fmt: skip


def join_texts(session: Session) -> Any:
    """The SQL aggregate that joins texts: string_agg on PostgreSQL, group_concat else."""
    return func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat


Packed = list[Any]  # a tally being merged: [counts..., waits, talks, rings] (float lists)


def pack(row: Sequence[Any]) -> Packed:
    """A tally row (its counts, then its values as stored) as a Packed tally."""
    n = len(core.COUNTS)
    return [*(int(v or 0) for v in row[:n]), *(decode(v) for v in row[n:])]


def add(into: dict[tuple[str, str], Packed], kind: str, key: str, packed: Packed) -> None:
    """Merge a packed tally into `into`: counts added, values joined."""
    have = into.get((kind, key))
    if have is None:
        into[(kind, key)] = packed
        return
    for i in range(len(core.COUNTS)):
        have[i] += packed[i]
    for i in range(len(core.COUNTS), len(packed)):
        have[i] = have[i] + packed[i]


def tally(packed: Packed) -> core.Tally:
    c = packed
    n = len(core.COUNTS)
    return core.Tally(
        calls=c[0], offered=c[1], answered=c[2], abandoned=c[3], unanswered=c[4],
        rejected=c[5], failed=c[6], queued=c[7], answered_within_20=c[8],
        answered_within_60=c[9], callbacks_made=c[10], callbacks_in_time=c[11], rung=c[12],
        missed_rings=c[13], waits=tuple(c[n]), talks=tuple(c[n + 1]), rings=tuple(c[n + 2]),
    )  # fmt: skip
