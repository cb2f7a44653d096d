"""The manager's review through the API and the pages on a real server, on a real SQLite
file and a real PostgreSQL server: the ticket list's filters and keyset pages, the one-click
answer (CSRF required; the contract's effective end moved at once in the answer and in the
list; 409 on a repeat, nothing extended twice), hostile query parameters answered 422
naming the field (never echoing the value), the callbacks with their attempts.

The review's clock is set to a working Tuesday, 10:00 Warsaw (the handlers' `now`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from review_data import NOW, seed
from web_support import Account, LiveServer, bearer, login_cookie

from callcenter.web.api import review as review_api
from callcenter.web.pages import review as review_pages


@pytest.fixture
def web_db_url(database_url: str) -> str:
    """These tests on SQLite and on PostgreSQL (review_data.seed says what is in it)."""
    return seed(database_url)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(review_api, "now", lambda: NOW)
    monkeypatch.setattr(review_pages, "now", lambda: NOW)
    return NOW


@pytest.fixture
def boss(make_user: Callable[..., Account]) -> Account:
    return make_user("boss", "manager")


@pytest.fixture
def api(live_server: LiveServer, boss: Account, clock: datetime) -> Iterator[httpx.Client]:
    with live_server.client() as http:
        http.headers["Authorization"] = f"Bearer {bearer(http, boss)}"
        yield http


@pytest.fixture
def browser_like(live_server: LiveServer, boss: Account, clock: datetime) -> Iterator[httpx.Client]:
    """The manager by cookie, as the page is used; `.csrf` is the session's token."""
    with live_server.client() as http:
        http.csrf = login_cookie(http, boss)  # type: ignore[attr-defined]
        yield http


def _tickets(api: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = api.get("/api/tickets", params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_the_list_newest_first_with_due_breach_extension_and_skip_reasons(
    api: httpx.Client,
) -> None:
    tickets = _tickets(api)["tickets"]
    assert [(t["contract"], t["kind"]) for t in tickets] == [
        ("CC-2026-001", "general"), ("CC-2026-001", "action"), ("CC-2026-003", "answer")]  # fmt: skip
    general, action, expired = tickets
    assert (general["state"], general["breached"], general["due"]) == (
        "open", False, "2026-11-24T16:00:00+01:00")  # fmt: skip
    assert [(f["clause"], f["code"]) for f in general["skip"]] == [(8, "general_question")]
    assert action["breached"] is True and action["state"] == "answered"
    assert action["extension"] == {"days": 3, "effective_until_before": "2026-12-31",
                                   "effective_until": "2027-01-03"}  # fmt: skip
    assert action["contract_period"]["effective_until"] == "2027-01-03"
    assert (expired["breached"], expired["extension"]) == (True, None)
    assert expired["contract_period"] == {"number": "CC-2026-003", "paid_until": "2026-05-31",
                                          "effective_until": "2026-05-31", "active": False}  # fmt: skip
    assert "has_access_data" in expired and "access" not in expired


def test_filters_and_keyset_pages(api: httpx.Client) -> None:
    assert len(_tickets(api, contract="CC-2026-001")["tickets"]) == 2
    assert [t["kind"] for t in _tickets(api, state="breached")["tickets"]] == ["action", "answer"]
    assert [t["kind"] for t in _tickets(api, kind="general")["tickets"]] == ["general"]
    assert [t["kind"] for t in _tickets(api, since="2026-11-05", until="2026-11-05")["tickets"]] == [
        "action"]  # fmt: skip
    seen, after, pages = [], None, 0
    while True:
        page = _tickets(api, limit=1, **({"after": after} if after else {}))
        seen += [t["id"] for t in page["tickets"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert pages == 3 and seen == [t["id"] for t in _tickets(api)["tickets"]]


def test_one_click_answer_needs_csrf_moves_the_end_at_once_and_is_refused_the_second_time(
    browser_like: httpx.Client,
) -> None:
    http = browser_like
    [ticket] = http.get("/api/tickets", params={"contract": "CC-2026-003"}).json()["tickets"]
    url = f"/api/tickets/{ticket['id']}/answer"
    refused = http.post(url)  # the cookie alone: no CSRF token
    assert refused.status_code == 403
    assert http.get("/api/tickets", params={"contract": "CC-2026-003"}).json()["tickets"][0][
        "state"] == "open"  # fmt: skip

    done = http.post(url, headers={"X-CSRF-Token": http.csrf})  # type: ignore[attr-defined]
    assert done.status_code == 200, done.text
    body = done.json()
    # Due Thu May 21 16:00 CEST, answered Tue Nov 24 10:00 CET: 186 days 19 hours late,
    # 187 started days; May 31 + 187 days = Dec 4. In its period again on Nov 24.
    assert body["ticket"]["extension"] == {"days": 187, "effective_until_before": "2026-05-31",
                                           "effective_until": "2026-12-04"}  # fmt: skip
    assert (body["contract_before"]["effective_until"], body["contract_before"]["active"]) == (
        "2026-05-31", False)  # fmt: skip
    assert (body["contract"]["effective_until"], body["contract"]["active"]) == ("2026-12-04", True)
    assert body["contract"]["allowance"] == body["contract_before"]["allowance"]
    listed = http.get("/api/tickets", params={"contract": "CC-2026-003"}).json()["tickets"][0]
    assert (listed["state"], listed["answered"]) == ("answered", "2026-11-24T10:00:00+01:00")
    assert listed["contract_period"]["effective_until"] == "2026-12-04"

    again = http.post(url, headers={"X-CSRF-Token": http.csrf})  # type: ignore[attr-defined]
    assert again.status_code == 409
    assert "answered already" in again.json()["detail"]
    after = http.get("/api/tickets", params={"contract": "CC-2026-003"}).json()["tickets"][0]
    assert after["contract_period"]["effective_until"] == "2026-12-04"  # not extended twice
    assert http.post("/api/tickets/999999/answer",
                     headers={"X-CSRF-Token": http.csrf}).status_code == 404  # type: ignore[attr-defined]  # fmt: skip


def test_the_page_answers_by_a_form_and_goes_back_only_to_its_own_pages(
    browser_like: httpx.Client,
) -> None:
    http = browser_like
    csrf: str = http.csrf  # type: ignore[attr-defined]
    listing = http.get("/tickets", params={"state": "open"})
    assert listing.status_code == 200
    assert "Oznacz jako odpowiedziane" in listing.text and "pkt 8" in listing.text
    ids = [t["id"] for t in http.get("/api/tickets", params={"state": "open"}).json()["tickets"]]
    no_token = http.post(f"/tickets/{ids[0]}/answer", data={"back": "/tickets"})
    assert no_token.status_code == 403
    done = http.post(f"/tickets/{ids[0]}/answer",
                     data={"csrf_token": csrf, "back": "/tickets?state=open"})  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/tickets?state=open#ticket-{ids[0]}"
    elsewhere = http.post(f"/tickets/{ids[1]}/answer",
                          data={"csrf_token": csrf, "back": "//evil.example/tickets"})  # fmt: skip
    assert elsewhere.headers["location"] == f"/tickets#ticket-{ids[1]}"
    repeat = http.post(f"/tickets/{ids[0]}/answer", data={"csrf_token": csrf, "back": "/tickets"})
    assert repeat.status_code == 409
    assert "Zgłoszenie ma już odpowiedź" in repeat.text
    one = http.get(f"/tickets/{ids[0]}")
    assert one.status_code == 200 and "odpowiedziane" in one.text
    assert http.get("/tickets/999999").status_code == 404


HOSTILE = [
    ("/api/tickets", "kind", "answer'; DROP TABLE tickets;--"),
    ("/api/tickets", "state", "<script>alert(1)</script>"),
    ("/api/tickets", "since", "2026-13-01"),
    ("/api/tickets", "since", "0001-01-01"),
    ("/api/tickets", "until", "2026-11-24T10:00"),
    ("/api/tickets", "limit", "0"),
    ("/api/tickets", "limit", "201"),
    ("/api/tickets", "limit", "²"),
    ("/api/tickets", "limit", "9" * 40),
    ("/api/tickets", "after", "1.2.3"),
    ("/api/tickets", "after", "9" * 40 + ".1"),
    ("/api/tickets", "contract", "X" * 65),
    ("/api/callbacks/all", "state", "answered"),
    ("/api/callbacks/all", "after", "x1.1"),
    ("/api/callbacks/all", "since", "yesterday"),
]


@pytest.mark.parametrize(("path", "field", "value"), HOSTILE)
def test_a_hostile_query_parameter_is_422_naming_it_never_echoing_it(
    api: httpx.Client, path: str, field: str, value: str
) -> None:
    answer = api.get(path, params={field: value})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["detail"]] == [field]
    if len(value) > 3:  # a short value could be part of the message's own words
        assert value not in answer.text


def test_a_parameter_twice_an_inverted_range_a_bad_id(api: httpx.Client) -> None:
    twice = api.get("/api/tickets?kind=answer&kind=action")
    assert (twice.status_code, twice.json()["detail"][0]["field"]) == (422, "kind")
    inverted = api.get("/api/tickets", params={"since": "2026-11-24", "until": "2026-11-01"})
    assert (inverted.status_code, inverted.json()["detail"][0]["field"]) == (422, "until")
    bad_id = api.post("/api/tickets/abc/answer")
    assert (bad_id.status_code, bad_id.json()["detail"][0]["field"]) == (422, "path.ticket_id")
    for huge in ("99999999999999999999999", "-1", "2147483648"):
        assert api.post(f"/api/tickets/{huge}/answer").status_code in (404, 422), huge
        assert api.get(f"/tickets/{huge}").status_code in (404, 422), huge
        assert api.get(f"/api/tickets/{huge}").status_code in (404, 422), huge
        assert api.post(f"/api/tickets/{huge}/reveal").status_code in (404, 422), huge


def test_a_page_names_the_refused_filter_in_polish(browser_like: httpx.Client) -> None:
    page = browser_like.get("/tickets", params={"since": "<b>jutro</b>"})
    assert page.status_code == 422
    assert "Nieprawidłowa wartość pola „Od dnia”." in page.text
    assert "<b>jutro</b>" not in page.text  # refilled in the form, escaped
    assert browser_like.get("/callbacks", params={"state": "nope"}).status_code == 422


def test_callbacks_with_their_attempts_and_the_call_that_made_them(api: httpx.Client) -> None:
    answer = api.get("/api/callbacks/all")
    assert answer.status_code == 200, answer.text
    [callback] = answer.json()["callbacks"]
    assert (callback["state"], callback["breached"], callback["due"]) == (
        "open", True, "2026-11-23T16:00:00+01:00")  # fmt: skip
    assert [(a["operator"], a["result"]) for a in callback["attempts"]] == [("op1", "busy")]
    assert [k["outcome"] for k in callback["caused_by"]] == ["rejected"]
    assert api.get("/api/callbacks/all", params={"state": "done"}).json()["callbacks"] == []
    page = api.get("/callbacks")
    assert page.status_code == 200  # a bearer token opens the page too
    assert (
        "u klienta zajęte" in page.text
        and f'href="/calls/{callback["caused_by"][0]["call_id"]}"' in page.text
    )
