"""CSV export: formula cells neutralised, quoting, one line at a time."""

from __future__ import annotations

import csv
import io

from callcenter.csv_export import lines, neutralise


def test_formula_cells_are_neutralised() -> None:
    for hostile in ('=HYPERLINK("http://x")', "+48601234567", "-2+3", "@SUM(A1)", "\tx", "|cmd"):
        assert neutralise(hostile) == "'" + hostile
    assert neutralise("Zakład Łódź") == "Zakład Łódź"
    assert neutralise(None) == ""
    assert neutralise(-5) == "-5"  # a number is a number, not a formula
    assert neutralise(2.5) == "2.5"
    assert neutralise(True) == "true"


def test_lines_read_back_as_the_same_cells() -> None:
    rows = [["1", 'a "quoted", name', "=1+1"], [2, "line\nbreak", None]]
    text = "".join(lines(["id", "name", "note"], rows))
    assert text.startswith("id,name,note\r\n")
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert back == [
        ["id", "name", "note"],
        ["1", 'a "quoted", name', "'=1+1"],
        ["2", "line\nbreak", ""],
    ]


def test_lines_are_produced_lazily() -> None:
    def endless() -> object:
        n = 0
        while True:
            n += 1
            yield [n]

    produced = lines(["n"], endless())  # type: ignore[arg-type]
    assert [next(produced) for _ in range(3)] == ["n\r\n", "1\r\n", "2\r\n"]
