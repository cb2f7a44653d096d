"""The live demo's inputs (callcenter/demo/prepare.py)."""

from __future__ import annotations

from datetime import date

from callcenter.demo.prepare import ANCHOR, CONTRACTS, callers_csv, demo_day, shift_contracts
from callcenter.domain.contract_csv import parse_contracts


def test_the_demo_day_is_a_working_day() -> None:
    assert demo_day(date(2026, 12, 2)) == date(2026, 12, 2)  # a Wednesday
    assert demo_day(date(2026, 12, 5)) == date(2026, 12, 7)  # Saturday -> Monday
    assert demo_day(date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas -> Monday


def test_contracts_move_by_whole_days_and_stay_valid() -> None:
    text = CONTRACTS.read_text(encoding="utf-8")
    moved = shift_contracts(text, (date(2026, 12, 2) - ANCHOR).days)
    assert "2026-01-09,2027-01-08" in moved  # CC-2026-001: 2026-01-01..2026-12-31 + 8 days
    assert shift_contracts(moved, -8) == shift_contracts(text, 0)
    assert len(parse_contracts(moved)) == 6


def test_every_route_has_a_caller() -> None:
    lines = callers_csv().splitlines()
    assert lines[0] == "SEQUENTIAL"
    assert any(line.endswith(";anonymous;id") for line in lines)
    assert len(lines) == 10
