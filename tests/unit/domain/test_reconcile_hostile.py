"""Asterisk's queue_log and CDR CSV as read after a gap (domain/reconcile.py): a line that
is junk, out of range or over the csv module's limit is skipped, never a crash."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from callcenter.domain.reconcile import CDR_COLUMNS, parse_cdr_csv, parse_queue_log

GOOD_QUEUE_LINE = "1764500000|1764500000.1|support|NONE|ENTERQUEUE||601234567|1"


def test_queue_log_lines_with_times_out_of_range_are_skipped() -> None:
    text = "\n".join(
        [
            "9" * 400 + "|1.1|support|NONE|ENTERQUEUE",  # past year 9999
            "²|1.1|support|NONE|ENTERQUEUE",  # a digit int() does not read
            "inf|1.1|support|NONE|ENTERQUEUE",
            "nan|1.1|support|NONE|ENTERQUEUE",
            "-5|1.1|support|NONE|ENTERQUEUE",
            GOOD_QUEUE_LINE,
        ]
    )
    (entry,) = parse_queue_log(text)
    assert entry.at == datetime.fromtimestamp(1764500000, tz=UTC)
    assert (entry.callid, entry.event) == ("1764500000.1", "ENTERQUEUE")


def _cdr(**values: str) -> list[str]:
    row = dict.fromkeys(CDR_COLUMNS, "")
    row.update(start="1764500000", uniqueid="1.1", linkedid="1.1", disposition="ANSWERED")
    row.update(values)
    return [row[c] for c in CDR_COLUMNS]


def _csv(*rows: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_cdr_times_out_of_range_read_as_missing() -> None:
    (row,) = parse_cdr_csv(_csv(_cdr(start="1e300", answer="inf", end="9" * 30)))
    assert (row.start, row.answer, row.end) == (None, None, None)
    assert row.linkedid == "1.1"


def test_a_cdr_record_over_the_csv_limit_is_skipped_and_the_next_is_read() -> None:
    huge = '"' + "x" * (csv.field_size_limit() + 1) + '"'
    text = _csv(_cdr(uniqueid="1.1")) + huge + "\n" + _csv(_cdr(uniqueid="2.2", linkedid="2.2"))
    rows = parse_cdr_csv(text)
    assert [r.uniqueid for r in rows] == ["1.1", "2.2"]
