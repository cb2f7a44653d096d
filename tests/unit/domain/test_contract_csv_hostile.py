"""Contract CSV files an attacker (or a spreadsheet) could give us: every one ends in bad
lines named by number, never in an exception (domain/contract_csv.py)."""

from __future__ import annotations

import csv

import pytest

from callcenter.domain.contract_csv import (
    COLUMNS,
    MAX_DAILY_UNITS,
    MAX_LENGTH,
    CsvError,
    LineError,
    decode_csv,
    parse_contracts,
)
from callcenter.store.models import ContractRow, Customer

HEADER = ",".join(COLUMNS)


def row(**changes: str) -> str:
    values = {
        "number": "C-9", "customer": "Żółta Łódź", "plan": "phone", "billing": "monthly",
        "paid_from": "2026-01-01", "paid_until": "2026-01-31", "product": "SmodSKLEP",
        "site_url": "https://shop.example.pl", "phones": "601234567",
        "email": "shop@example.pl", "accepted_at": "2025-12-31T10:00:00+01:00",
        "daily_units": "",
    }  # fmt: skip
    values.update(changes)
    return ",".join(values[c] for c in COLUMNS)


def errors_of(text: str) -> list[LineError]:
    with pytest.raises(CsvError) as caught:
        parse_contracts(text)
    return caught.value.errors


def test_blank_lines_before_the_header_are_skipped_and_lines_keep_their_numbers() -> None:
    text = "\n\r\n   \n" + HEADER + "\n" + row() + "\n" + row(number="C-2", plan="bad") + "\n"
    assert errors_of(text) == [LineError(6, "plan: 'bad' is not one of email|phone|professional")]
    (contract,) = parse_contracts("\n\n" + HEADER + "\n" + row() + "\n")
    assert contract.number == "C-9"


def test_a_file_of_blank_lines_is_empty() -> None:
    assert errors_of("\n \n\r\n") == [LineError(1, "the file is empty (expected a header row)")]


def test_a_header_after_blank_lines_is_named_on_its_own_line() -> None:
    (error,) = errors_of("\n\nnumber,customer\n")
    assert error.line == 3 and error.message.startswith("header: missing column(s)")


def test_a_field_over_the_csv_modules_limit_names_its_line() -> None:
    limit = csv.field_size_limit()
    huge = '"' + "x" * (limit + 10) + '"'
    text = "\n".join([HEADER, row(), row(number="C-2"), row(number="C-3", customer=huge)]) + "\n"
    (error,) = errors_of(text)
    assert error.line == 4
    assert error.message.startswith(f"a field is longer than {limit} characters")


def test_a_huge_header_field_names_the_header_line() -> None:
    huge = "y" * (csv.field_size_limit() + 1)
    (error,) = errors_of(f"\n{huge},{HEADER}\n{row()}\n")
    assert error.line == 2 and error.message.startswith("header: a field is longer than")


def test_errors_before_an_unreadable_line_are_kept() -> None:
    huge = "z" * (csv.field_size_limit() + 1)
    errors = errors_of("\n".join([HEADER, row(plan="bad"), row(number=huge)]) + "\n")
    assert [e.line for e in errors] == [2, 3]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"paid_until": "9999-12-31"}, "paid_until: 9999-12-31 is outside the supported days"),
        ({"paid_from": "0001-01-01"}, "paid_from: 0001-01-01 is outside the supported days"),
        ({"accepted_at": "9999-12-31T23:59"}, "accepted_at: 9999-12-31 is outside"),
        ({"accepted_at": "0001-01-01T00:30+05:00"}, "accepted_at: 0001-01-01 is outside"),
        ({"daily_units": str(MAX_DAILY_UNITS + 1)}, f"at most {MAX_DAILY_UNITS}"),
        ({"daily_units": "9" * 50}, f"at most {MAX_DAILY_UNITS}"),
        ({"number": "N" * 65}, "number: 65 characters, at most 64"),
        ({"customer": "C" * 201}, "customer: 201 characters, at most 200"),
        ({"email": "e" * 320 + "@x.pl"}, "email: 325 characters, at most 320"),
        ({"site_url": "https://" + "s" * 500 + ".pl"}, "site_url: 511 characters, at most 500"),
    ],
)
def test_values_the_rules_or_the_columns_cannot_hold_are_bad_lines(
    changes: dict[str, str], message: str
) -> None:
    (error,) = errors_of(HEADER + "\n" + row(**changes) + "\n")
    assert error.line == 2
    assert message in error.message


def test_a_long_bad_value_is_cut_short_in_the_message() -> None:
    (error,) = errors_of(HEADER + "\n" + row(paid_from="x" * 5000) + "\n")
    assert len(error.message) < 200 and "(5000 characters)" in error.message


def test_field_widths_are_the_columns_widths() -> None:
    columns = {
        "number": ContractRow.__table__.c.number,
        "customer": Customer.__table__.c.name,
        "site_url": ContractRow.__table__.c.site_url,
        "email": ContractRow.__table__.c.email,
    }
    assert {name: column.type.length for name, column in columns.items()} == MAX_LENGTH


def test_a_file_in_another_encoding_names_the_line_and_column() -> None:
    text = HEADER + "\n" + row() + "\n" + row(number="C-2", customer="Zakład Śląsk") + "\n"
    with pytest.raises(CsvError) as caught:
        decode_csv(text.encode("cp1250"))
    (error,) = caught.value.errors
    # Line 2 already has "Żółta Łódź": its first letter is the first byte that is not UTF-8.
    assert error.line == 2
    assert error.message.startswith("is not UTF-8 (byte 0xaf at column 5)")
    latin2 = (HEADER + "\n" + row(customer="Kowalski") + "\n").encode() + b"x,\xb3\n"
    with pytest.raises(CsvError) as caught:
        decode_csv(latin2)
    assert caught.value.errors[0].line == 3
    assert "column 3" in caught.value.errors[0].message


def test_utf8_with_a_bom_decodes() -> None:
    text = HEADER + "\n" + row() + "\n"
    (contract,) = parse_contracts(decode_csv(b"\xef\xbb\xbf" + text.encode()))
    assert contract.customer == "Żółta Łódź"
