"""Clause checks of a ticket as the form is filled (clauses 4, 5, 7, 8, 9), hand-worked."""

from __future__ import annotations

from datetime import date

import pytest
from builders import TUESDAY, at, contract, request

from callcenter.domain.allowance import Allowance, allowance_on
from callcenter.domain.calendar import Calendar
from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import (
    DESCRIPTION_MIN,
    AccessData,
    Finding,
    FindingCode,
    TicketForm,
    check_request,
    is_other_installation,
    may_be_skipped,
    too_long,
)

C = contract("C-1", site_url="https://www.example.pl/shop")
DESCRIPTION = "Order form on /shop/cart shows error 500 since Monday"
FTP = AccessData(ftp_host="ftp.example.pl", ftp_login="jan", ftp_password="s3cret!")


def form(**values: object) -> TicketForm:
    filled: dict[str, object] = {
        "contract": "C-1",
        "site_url": "https://example.pl/shop/cart",
        "description": DESCRIPTION,
        "kind": TicketKind.ANSWER,
    }
    filled.update(values)
    return TicketForm(**filled)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return [f.code.value for f in findings]


def test_a_complete_answer_has_no_findings() -> None:
    assert check_request(form(), C) == []


def test_clause_4_missing_fields_each_flagged_may_be_skipped() -> None:
    found = check_request(TicketForm(kind=TicketKind.ANSWER), None)
    assert [(f.code, f.clause, f.field, f.may_skip) for f in found] == [
        (FindingCode.CONTRACT_MISSING, 4, "contract", True),
        (FindingCode.SITE_URL_MISSING, 4, "site_url", True),
        (FindingCode.DESCRIPTION_MISSING, 4, "description", True),
    ]
    assert may_be_skipped(found)
    assert found[0].key == "ticket.finding.contract_missing"


def test_clause_4_an_unknown_contract_number_is_flagged() -> None:
    [found] = check_request(form(contract="C-9"), None)
    assert found.code is FindingCode.CONTRACT_UNKNOWN
    assert dict(found.params) == {"number": "C-9"}


def test_clause_4_a_description_needs_fifteen_characters_of_text() -> None:
    # "Site is down!" is 13 characters; runs of blanks count as one.
    [short] = check_request(form(description="Site   is\tdown!"), C)
    assert short.code is FindingCode.DESCRIPTION_TOO_SHORT
    assert dict(short.params) == {"minimum": str(DESCRIPTION_MIN)}
    assert check_request(form(description="x" * DESCRIPTION_MIN), C) == []
    assert codes(check_request(form(description="   \n "), C)) == ["description_missing"]


def test_clause_4_an_action_needs_one_complete_set_of_access_data() -> None:
    [missing] = check_request(form(kind=TicketKind.ACTION), C)
    assert (missing.code, missing.clause, missing.field) == (
        FindingCode.ACCESS_DATA_MISSING,
        4,
        "access",
    )
    assert dict(missing.params) == {"sets": "ftp,database,phpmyadmin,admin"}
    assert check_request(form(kind=TicketKind.ACTION, access=FTP), C) == []


def test_clause_4_a_set_filled_in_part_names_the_fields_it_lacks() -> None:
    partial = AccessData(db_host="localhost", db_login="shop")
    [found] = check_request(form(kind=TicketKind.ACTION, access=partial), C)
    assert found.code is FindingCode.ACCESS_DATA_INCOMPLETE
    assert found.field == "db_name"
    assert dict(found.params) == {"set": "database", "missing": "db_name,db_password"}
    # Also for an answer: what was given is not usable as it is.
    assert codes(check_request(form(access=partial), C)) == ["access_data_incomplete"]


def test_clause_4_an_answer_needs_no_access_data() -> None:
    assert check_request(form(kind=TicketKind.ANSWER), C) == []


def test_clause_5_another_installation_is_flagged_but_not_skippable() -> None:
    [found] = check_request(form(site_url="https://other.example.pl/"), C)
    assert (found.code, found.clause, found.field, found.may_skip) == (
        FindingCode.OTHER_INSTALLATION,
        5,
        "site_url",
        False,
    )
    assert dict(found.params) == {"site_url": "https://www.example.pl/shop", "product": "SmodCMS"}
    assert not may_be_skipped([found])


@pytest.mark.parametrize(
    ("url", "other"),
    [
        ("https://www.example.pl/shop", False),
        ("http://example.pl/shop/", False),
        ("EXAMPLE.PL/shop", False),
        ("https://Www.Example.PL:443/shop/cart?id=3#top", False),
        ("https://example.pl/shop/admin/login.php", False),
        ("https://example.pl/", True),  # the site is the shop under /shop
        ("https://example.pl/shopping", True),  # not a path under /shop
        ("https://example.pl:8080/shop", True),
        ("https://blog.example.pl/shop", True),
        ("https://example.com/shop", True),
        ("ftp://example.pl/shop", True),
        ("http://[::1/shop", True),  # not a URL
        ("", True),
    ],
)
def test_is_other_installation(url: str, other: bool) -> None:
    assert is_other_installation("https://www.example.pl/shop/", url) is other


def test_a_site_at_the_root_covers_every_path_of_its_host() -> None:
    assert not is_other_installation("http://example.pl", "https://www.example.pl/a/b")
    assert not is_other_installation("example.pl/", "example.pl")


@pytest.mark.parametrize(
    ("kind", "code", "clause"),
    [
        (TicketKind.GENERAL, FindingCode.GENERAL_QUESTION, 8),
        (TicketKind.MODIFICATION, FindingCode.MODIFICATION, 9),
        (None, FindingCode.KIND_MISSING, 8),
    ],
)
def test_clauses_8_and_9_general_and_modification_may_be_skipped(
    kind: TicketKind | None, code: FindingCode, clause: int
) -> None:
    [found] = check_request(form(kind=kind), C)
    assert (found.code, found.clause, found.field, found.may_skip) == (code, clause, "kind", True)


def test_clause_7_a_request_costing_more_than_is_left_is_flagged() -> None:
    # One answer used of the default budget of 2: one unit left, an action costs 2.
    one_left = Allowance(day=TUESDAY, budget=2, used=1, consolidated_away=False, action_used=False)
    [found] = check_request(form(kind=TicketKind.ACTION, access=FTP), C, one_left)
    assert found.code is FindingCode.ALLOWANCE_EXCEEDED
    assert dict(found.params) == {"cost": "2", "left": "1", "day": "2026-03-10"}
    assert check_request(form(kind=TicketKind.ANSWER), C, one_left) == []
    # General questions cost nothing and are flagged for clause 8 only.
    assert codes(check_request(form(kind=TicketKind.GENERAL), C, one_left)) == ["general_question"]


def test_clause_7_a_completed_draft_counts_on_the_day_it_was_received() -> None:
    """A draft becomes a request of its kind, received when the call was answered: the
    allowance rules (domain/allowance.py) then count it on that working day."""
    answered = request(TicketKind.ACTION, at(TUESDAY, 15, 59))
    after_hours = request(TicketKind.ANSWER, at(TUESDAY, 16, 30))
    cal = Calendar()
    tuesday = allowance_on(C, TUESDAY, cal, [answered, after_hours])
    assert (tuesday.used, tuesday.left, tuesday.action_used) == (2, 0, True)
    wednesday = allowance_on(C, date(2026, 3, 11), cal, [answered, after_hours])
    assert (wednesday.used, wednesday.left) == (1, 1)


def test_access_data_repr_names_fields_never_values() -> None:
    text = repr(form(access=FTP))
    assert "s3cret!" not in text
    assert "jan" not in text
    assert "ftp.example.pl" not in text
    assert "ftp_password" in text
    assert str(FTP) == "AccessData(filled=['ftp_host', 'ftp_login', 'ftp_password'])"


def test_too_long_names_each_field_over_its_limit() -> None:
    long = form(site_url="https://example.pl/" + "a" * 500, access=AccessData(ftp_login="x" * 501))
    assert too_long(long) == [("site_url", 500), ("ftp_login", 500)]
    assert too_long(form()) == []
