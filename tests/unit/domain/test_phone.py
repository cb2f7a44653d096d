"""Clause 3: the phone number named in the order identifies the caller (domain/phone.py)."""

from __future__ import annotations

import pytest

from callcenter.domain.phone import CallerKind, normalise, to_e164


@pytest.mark.parametrize(
    "raw",
    ["601 234 567", "+48601234567", "0048601234567", "48601234567", "(0048) 601-234-567"],
)
def test_clause3_every_written_form_of_a_polish_mobile_is_the_same_caller(raw: str) -> None:
    number = normalise(raw)
    assert number.kind is CallerKind.NUMBER
    assert number.usable
    assert number.e164 == "+48601234567"


def test_clause3_foreign_number_with_country_code_but_no_plus() -> None:
    assert normalise("4930123456").e164 == "+4930123456"


def test_clause3_polish_landline_in_national_form() -> None:
    assert normalise("22 123 45 67").e164 == "+48221234567"


def test_clause3_foreign_number_keeps_its_country() -> None:
    assert normalise("+4930123456").e164 == "+4930123456"


def test_clause3_caller_id_is_stripped_and_raw_kept() -> None:
    number = normalise("  601234567  ")
    assert number.raw == "601234567"
    assert number.e164 == "+48601234567"


@pytest.mark.parametrize(
    "raw", ["anonymous", "Anonymous", "", None, "unknown", "restricted", "  ", "WITHHELD"]
)
def test_route1_withheld_caller_ids_are_recognised(raw: str | None) -> None:
    number = normalise(raw)
    assert number.kind is CallerKind.WITHHELD
    assert number.e164 is None
    assert not number.usable


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12",
        "+48 123",
        "601234567;drop table",
        # Text a lenient parser would dig a number out of: still not a caller number.
        "601234567, 601234568",
        "601 234 567 ext 12",
        "601234567x",
    ],
)
def test_route1_caller_ids_that_are_not_numbers_are_invalid(raw: str) -> None:
    number = normalise(raw)
    assert number.kind is CallerKind.INVALID
    assert number.e164 is None
    assert not number.usable


@pytest.mark.parametrize("raw", ["abc", "12", "+48 123", "601234567;drop table", "", "anonymous"])
def test_clause3_to_e164_raises_on_a_number_that_cannot_be_named_in_an_order(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid phone number"):
        to_e164(raw)


def test_clause3_to_e164_returns_the_normalised_number() -> None:
    assert to_e164("(0048) 601-234-567") == "+48601234567"


def test_clause3_region_parameter_decides_how_national_numbers_are_read() -> None:
    # A German national number: only valid when read as German.
    assert normalise("030 123456", region="DE").e164 == "+4930123456"
    assert normalise("030 123456", region="PL").kind is CallerKind.INVALID
    assert to_e164("030 123456", region="DE") == "+4930123456"
    # A Polish national mobile is not a German number.
    assert normalise("601 234 567", region="DE").kind is CallerKind.INVALID
    # An international form does not depend on the region.
    assert normalise("+48 601 234 567", region="DE").e164 == "+48601234567"


def test_clause3_a_restricted_presentation_is_withheld() -> None:
    from callcenter.domain.phone import CallerKind, normalise, presentation_restricted

    assert presentation_restricted("32") and presentation_restricted("67")
    assert not presentation_restricted("0") and not presentation_restricted("junk")
    assert normalise("601234567", presented=False).kind is CallerKind.WITHHELD
