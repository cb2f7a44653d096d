"""Every finding has its text in Polish and English, with its placeholders filled."""

from __future__ import annotations

import pytest

from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import (
    AccessData,
    FindingCode,
    TicketForm,
    check_request,
)
from callcenter.ticket_messages import MESSAGES, finding_json, finding_text


def test_every_finding_code_has_both_texts() -> None:
    assert set(MESSAGES) == set(FindingCode)


@pytest.mark.parametrize(
    "form",
    [
        TicketForm(kind=TicketKind.ACTION, access=AccessData(db_host="h")),
        TicketForm(contract="X-1", site_url="x", description="short", kind=TicketKind.GENERAL),
        TicketForm(kind=TicketKind.MODIFICATION),
        TicketForm(),
    ],
)
def test_texts_fill_their_placeholders(form: TicketForm) -> None:
    for finding in check_request(form, None):
        for language in ("pl", "en"):
            text = finding_text(finding, language)  # type: ignore[arg-type]
            assert "{" not in text and text.endswith(".")
            assert f"{finding.clause})" in text


def test_missing_fields_are_named_in_the_language_of_the_text() -> None:
    form = TicketForm(kind=TicketKind.ACTION, access=AccessData(db_host="h"))
    [incomplete] = [f for f in check_request(form, None) if f.field == "db_name"]
    assert "nazwa bazy danych, login bazy danych, hasło bazy danych" in finding_text(
        incomplete, "pl"
    )
    shown = finding_json(incomplete)
    assert shown["code"] == "access_data_incomplete"
    assert shown["key"] == "ticket.finding.access_data_incomplete"
    assert shown["text"] == {  # type: ignore[comparison-overlap]
        "pl": finding_text(incomplete, "pl"),
        "en": "Incomplete access data, missing: database name, database login, database "
        "password: the request may be skipped (clause 4).",
    }
