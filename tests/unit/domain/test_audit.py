"""What an audit entry says changed (domain/audit.py): a contract's values, an import's
before and after, and the field-by-field difference a manager reads on /audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date

from builders import contract

from callcenter.domain.audit import Change, changes, contract_change, contract_values


def test_a_new_contract_has_no_before_and_all_its_values_after() -> None:
    new = contract("C-1")
    before, after = contract_change(None, new)
    assert before is None
    assert after == contract_values(new)
    assert after["number"] == "C-1" and after["paid_until"] == "2026-12-31"
    assert after["phones"] == ["+48601234567"]


def test_a_changed_contract_records_only_the_fields_that_changed_on_both_sides() -> None:
    old = contract("C-1")
    new = replace(old, paid_until=date(2027, 12, 31), phones=("+48601234567", "+48221234567"))
    before, after = contract_change(old, new)
    assert before == {"paid_until": "2026-12-31", "phones": ["+48601234567"]}
    assert after == {"paid_until": "2027-12-31", "phones": ["+48601234567", "+48221234567"]}


def test_changes_lists_differing_fields_in_after_order_then_those_only_before_had() -> None:
    found = changes({"a": 1, "b": 2, "gone": "x"}, {"b": 3, "a": 1, "new": None})
    assert found == [Change("b", 2, 3), Change("new", None, None), Change("gone", "x", None)]


def test_changes_of_an_addition_show_every_value_after() -> None:
    assert changes(None, {"from": "2026-06-01", "to": "2026-06-03"}) == [
        Change("from", None, "2026-06-01"),
        Change("to", None, "2026-06-03"),
    ]


def test_changes_of_nothing_is_empty() -> None:
    assert changes(None, None) == []
    assert changes({"a": [1]}, {"a": [1]}) == []


def test_the_same_acceptance_instant_in_another_zone_is_no_change() -> None:
    old = contract("C-1")
    new = replace(old, accepted_at=old.accepted_at.astimezone(UTC))
    assert contract_change(old, new) == ({}, {})
