"""A tally as the store keeps it and reads it back (store/report_values.py, store/report_tallies.py): every count in
its place, the values the same doubles (hex of little-endian doubles in a day's row, JSON
numbers in a month's document); stored contract figures read back equal."""

from __future__ import annotations

import json
import math
from datetime import date

from callcenter.domain import report_tallies as core
from callcenter.domain.reports import Figures
from callcenter.store import report_tallies as store
from callcenter.store import report_values as values

ODD = (0.1, 1 / 3, 1e-300, 123456.789, 0.0, math.pi, 2.0**-1074, 17.999999999999996)


def test_a_tally_row_reads_back_the_same_tally() -> None:
    counts = {name: i + 1 for i, name in enumerate(core.COUNTS)}  # each count its own value
    tally = core.Tally(**counts, waits=ODD, talks=ODD[::-1], rings=(5.5,))
    row = values.tally_row(date(2026, 11, 2), core.CONTRACT, "K-1", tally)
    stored = [row[name] for name in (*core.COUNTS, *core.VALUES)]
    assert values.tally(values.pack(stored)) == tally
    # a month's document: the values as JSON numbers
    packed = json.loads(json.dumps(values.pack(stored)))
    assert values.tally(packed) == tally


def test_joined_texts_are_joined_values() -> None:
    a, b = values.encode((1.5, 0.1)), values.encode((1 / 3,))
    assert a is not None and b is not None
    assert values.decode(a + b) == [1.5, 0.1, 1 / 3]
    assert values.encode(()) is None and values.decode(None) == []


def test_stored_contract_figures_read_back_equal() -> None:
    f = Figures(offered=3, answered=1, queued=2, answered_within_20=1, wait_avg=1 / 3,
                wait_p90=0.1, talk_avg=None, rejected_by=(("closed", "weekend", 2),))  # fmt: skip
    assert core.figures_from_fields(json.loads(json.dumps(core.figures_fields(f)))) == f


def test_whole_months_of_a_range() -> None:
    today = date(2026, 12, 7)
    assert store.whole_months(date(2026, 10, 1), date(2026, 10, 31), today) == [date(2026, 10, 1)]
    assert store.whole_months(date(2026, 10, 2), date(2026, 12, 6), today) == [date(2026, 11, 1)]
    assert store.whole_months(date(2026, 2, 1), date(2026, 2, 27), today) == []
    assert store.whole_months(date(2026, 12, 1), date(2026, 12, 31), today) == []  # not over
