"""Contract CSV import: all rows valid, or every bad line named (domain/contract_csv.py)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from callcenter.domain.calendar import WARSAW
from callcenter.domain.contract_csv import (
    COLUMNS,
    CsvError,
    LineError,
    parse_contracts,
    read_contracts,
)
from callcenter.domain.terms import Billing, Plan, Product

HEADER = ",".join(COLUMNS)
GOOD = (
    "C-1,Firma Kowalski,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://kowalski.pl,"
    '"601 234 567; 22 123 45 67",it@kowalski.pl,2025-12-20T12:00:00+01:00,'
)
EMAIL_ROW = (
    "C-2,Nowak,email,monthly,2026-03-01,2026-03-31,smodbip,http://bip.nowak.pl,,"
    "nowak@example.pl,2026-02-27 09:30,"
)


def row(**changes: str) -> str:
    """A valid phone-plan row with some fields replaced."""
    values = {
        "number": "C-9",
        "customer": "Customer",
        "plan": "phone",
        "billing": "monthly",
        "paid_from": "2026-01-01",
        "paid_until": "2026-01-31",
        "product": "SmodSKLEP",
        "site_url": "https://shop.example.pl",
        "phones": "601234567",
        "email": "shop@example.pl",
        "accepted_at": "2025-12-31T10:00:00+01:00",
        "daily_units": "",
    }
    values.update(changes)
    return ",".join(values[c] for c in COLUMNS)


def csv_text(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def errors_of(text: str) -> list[LineError]:
    with pytest.raises(CsvError) as caught:
        parse_contracts(text)
    return caught.value.errors


def test_clause1_a_good_file_gives_every_contract_with_acceptance_recorded() -> None:
    first, second = parse_contracts(csv_text(GOOD, EMAIL_ROW))
    assert first.number == "C-1"
    assert first.customer == "Firma Kowalski"
    assert first.plan is Plan.PHONE
    assert first.billing is Billing.YEARLY
    assert (first.paid_from, first.paid_until) == (date(2026, 1, 1), date(2026, 12, 31))
    assert first.product is Product.SMODCMS
    assert first.site_url == "https://kowalski.pl"
    assert first.phones == ("+48601234567", "+48221234567")
    assert first.email == "it@kowalski.pl"
    assert first.accepted_at == datetime(2025, 12, 20, 12, 0, tzinfo=WARSAW)
    assert first.accepted_at.utcoffset() == timedelta(hours=1)
    assert first.daily_units is None
    assert second.plan is Plan.EMAIL
    assert second.product is Product.SMODBIP
    assert second.phones == ()


def test_clause3_phones_in_an_order_are_normalised_and_deduplicated() -> None:
    (c,) = parse_contracts(csv_text(row(phones="601 234 567;+48601234567;0048601234567")))
    assert c.phones == ("+48601234567",)


def test_naive_accepted_at_means_warsaw_time() -> None:
    (c,) = parse_contracts(csv_text(row(accepted_at="2026-07-01 12:00")))
    assert c.accepted_at.tzinfo is WARSAW
    assert c.accepted_at.utcoffset() == timedelta(hours=2)


def test_clause7_daily_units_is_read() -> None:
    (c,) = parse_contracts(csv_text(row(daily_units="4")))
    assert c.daily_units == 4
    assert c.units_per_day == 4


def test_a_byte_order_mark_is_tolerated() -> None:
    (c,) = parse_contracts("\ufeff" + csv_text(GOOD))
    assert c.number == "C-1"


def test_header_with_spaces_and_windows_line_ends_is_read() -> None:
    header = ", ".join(COLUMNS)
    (c,) = parse_contracts(header + "\r\n" + GOOD + "\r\n")
    assert c.number == "C-1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"plan": "gold"}, "plan: 'gold' is not one of email|phone|professional"),
        ({"billing": "weekly"}, "billing"),
        ({"product": "WordPress"}, "unknown product 'WordPress'"),
        ({"paid_from": "2026-13-01"}, "paid_from: '2026-13-01' is not a date"),
        ({"paid_until": "31.01.2026"}, "paid_until: '31.01.2026' is not a date"),
        ({"paid_until": "2025-12-31"}, "paid_until 2025-12-31 is before paid_from 2026-01-01"),
        ({"phones": "601234567;12"}, "phones: not a valid phone number: '12'"),
        ({"phones": ""}, "a phone plan names at least one phone number"),
        ({"daily_units": "two"}, "daily_units: 'two' is not a whole number"),
        ({"daily_units": "0"}, "daily_units: must be at least 1"),
        ({"email": "shop.example.pl"}, "email: 'shop.example.pl' is not an e-mail address"),
        ({"email": "shop@example"}, "email: 'shop@example' is not an e-mail address"),
        ({"email": "a b@example.pl"}, "is not an e-mail address"),
        ({"email": "a@b@example.pl"}, "is not an e-mail address"),
        ({"site_url": "shop.example.pl"}, "site_url: 'shop.example.pl' is not an http(s) URL"),
        ({"site_url": "ftp://shop.example.pl"}, "is not an http(s) URL"),
        ({"accepted_at": "yesterday"}, "accepted_at: 'yesterday' is not a date-time"),
        ({"number": ""}, "number: is empty"),
        ({"customer": " "}, "customer: is empty"),
    ],
)
def test_each_bad_field_is_named_with_its_line_number(
    changes: dict[str, str], message: str
) -> None:
    (error,) = errors_of(csv_text(GOOD, row(**changes)))
    assert error.line == 3
    assert message in error.message
    assert str(error).startswith("line 3: ")


def test_professional_plan_without_phones_is_an_error_but_email_plan_may_have_none() -> None:
    (error,) = errors_of(csv_text(row(plan="professional", phones=" ; ")))
    assert "professional plan names at least one phone number" in error.message
    (c,) = parse_contracts(csv_text(row(plan="email", phones="")))
    assert c.phones == ()


def test_a_duplicate_contract_number_names_the_first_line() -> None:
    (error,) = errors_of(csv_text(GOOD, EMAIL_ROW, GOOD.replace("Kowalski", "Other", 1)))
    assert error.line == 4
    assert "duplicate contract number 'C-1' (first on line 2)" in error.message


def test_every_repeat_of_a_contract_number_names_the_first_line() -> None:
    errors = errors_of(csv_text(GOOD, EMAIL_ROW, GOOD, GOOD))
    assert [(e.line, "first on line 2" in e.message) for e in errors] == [(4, True), (5, True)]


def test_errors_in_several_rows_are_all_reported_in_order() -> None:
    text = csv_text(
        row(number="A", plan="gold"),
        GOOD,
        row(number="B", product="Joomla"),
        row(number="C", paid_from="tomorrow"),
    )
    errors = errors_of(text)
    assert [e.line for e in errors] == [2, 4, 5]
    with pytest.raises(CsvError, match=r"line 2: .*; line 4: .*; line 5: "):
        parse_contracts(text)


def test_a_row_with_extra_fields_is_an_error() -> None:
    (error,) = errors_of(csv_text(GOOD, row() + ",surplus,more"))
    assert error.line == 3
    assert "2 more field(s) than the header" in error.message


def test_a_row_with_missing_fields_is_an_error() -> None:
    (error,) = errors_of(csv_text("C-5,Short,phone"))
    assert error.line == 2
    assert "fewer fields than the header" in error.message


def test_missing_and_unknown_columns_are_named_on_line_1() -> None:
    header = HEADER.replace(",email,", ",mail,").replace(",daily_units", "")
    (error,) = errors_of(header + "\n")
    assert error.line == 1
    assert "missing column(s) email, daily_units" in error.message
    assert "unknown column(s) mail" in error.message


def test_an_unknown_column_alone_is_an_error() -> None:
    (error,) = errors_of(HEADER + ",notes\n" + GOOD + ",x\n")
    assert error.line == 1
    assert error.message == "header: unknown column(s) notes"


def test_an_empty_file_is_an_error() -> None:
    (error,) = errors_of("")
    assert error.line == 1
    assert "empty" in error.message


def test_a_header_alone_gives_no_contracts() -> None:
    assert parse_contracts(HEADER + "\n") == []


def test_blank_lines_are_skipped_and_counted() -> None:
    (error,) = errors_of(HEADER + "\n\n" + GOOD + "\n\n" + row(plan="gold") + "\n")
    assert error.line == 5


def test_a_quoted_multiline_field_keeps_line_numbers_right() -> None:
    multiline = row(number="M-1", customer='"Firma\nz dwiema liniami"', plan="gold")
    text = csv_text(GOOD, multiline, row(number="B", product="Joomla"))
    # Lines: 1 header, 2 GOOD, 3-4 the multi-line record, 5 the last row.
    assert [(e.line, e.message.split(":")[0]) for e in errors_of(text)] == [
        (3, "plan"),
        (5, "product"),
    ]


def test_a_good_multiline_record_keeps_its_text_and_the_first_line_for_duplicates() -> None:
    multiline = GOOD.replace("Firma Kowalski", '"Firma\nKowalski"')
    (error,) = errors_of(csv_text(row(), multiline, GOOD))
    assert error.line == 5
    assert "first on line 3" in error.message
    first, _ = parse_contracts(csv_text(row(), multiline))
    assert first.phones == ("+48601234567",)
    assert parse_contracts(csv_text(multiline))[0].customer == "Firma\nKowalski"


def test_reading_record_by_record_gives_each_start_line_and_the_same_verdicts() -> None:
    """read_contracts (what the import's checking process sends on as it goes): each
    record's first line, its contract or its error, in the file's order; parse_contracts
    is all of it at once."""
    multiline = GOOD.replace("Firma Kowalski", '"Firma\nKowalski"')
    text = HEADER + "\n\n" + multiline + "\n" + row(plan="gold") + "\n\n" + EMAIL_ROW + "\n"
    records = list(read_contracts(text))
    assert [line for line, _ in records] == [3, 5, 7]
    (_, first), (_, bad), (_, last) = records
    assert not isinstance(first, LineError) and first.customer == "Firma\nKowalski"
    assert isinstance(bad, LineError) and bad.line == 5 and bad.message.startswith("plan:")
    assert not isinstance(last, LineError) and last.number == "C-2"
    assert errors_of(text) == [bad]


def test_reading_stops_at_a_record_the_csv_reader_cannot_read() -> None:
    huge = "x" * (csv.field_size_limit() + 1)  # the reader gives up on such a field
    text = csv_text(GOOD, row(number="C-3", customer=huge), row(number="C-4"))
    *good, (line, error) = read_contracts(text)
    assert [n for n, _ in good] == [2]
    assert isinstance(error, LineError) and error.line == line == 3
    assert "the lines after it not read" in error.message


def test_a_bad_header_stops_reading_before_the_first_record() -> None:
    records = read_contracts("number,plan\n" + GOOD + "\n")
    with pytest.raises(CsvError, match="line 1: header: missing column"):
        next(records)


def test_region_parameter_reads_national_numbers() -> None:
    (c,) = parse_contracts(csv_text(row(phones="030 123456")), region="DE")
    assert c.phones == ("+4930123456",)


@pytest.mark.parametrize(
    "url",
    [
        "https://s1.example.pl",
        "HTTP://Example.PL/a?b=1#c",
        "https://host:8080/x",
        "https://host:/x",
        "https://a..b",
        "ftp://example.pl",
        "https:///path",
        "https://exa mple.pl",
        "https://user@example.pl",
        "https://[::1]/",
        "https://example.pl/ścieżka",
        "http:/example.pl",
        "javascript://example.pl/%0aalert(1)",
    ],
)
def test_a_site_url_is_judged_as_urlsplit_judges_it(url: str) -> None:
    """The shortcut for plain URLs takes only what the full reading takes."""
    parts = urlsplit(url)
    takes = parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url
    text = csv_text(row(site_url=url))
    if takes:
        assert parse_contracts(text)[0].site_url == url
    else:
        with pytest.raises(CsvError, match="site_url"):
            parse_contracts(text)
