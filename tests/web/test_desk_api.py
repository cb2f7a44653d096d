"""The operator's desk through the API on a real server and a real SQLite file: the ticket
of a call with its clause checks as the form is filled (clauses 4, 5, 7, 8, 9), saved and
linked to the call, counted against the allowance at once (the pop's figures and the next
routing decision); bad fields answered 4xx naming the field; access data never sent back
except by the audited reveal, a lost key file explained; the callbacks due, and "call back"
refused plainly (503) where the web app runs without the AMI listener.

The desk's clock is set to a working Tuesday, 10:00 Warsaw (the handlers' `now`), so the
allowance is the working day's whatever the hour the tests run at."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from web_support import Account, LiveServer, login_cookie

from callcenter.domain.calls import Call, CallState, Ring
from callcenter.services import route_call
from callcenter.store import call_log, db
from callcenter.store.models import AuditRow, CallbackAttemptRow, CallbackRow
from callcenter.web.api import callbacks as callbacks_api
from callcenter.web.api import tickets as tickets_api

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=WARSAW)  # a working Tuesday
CONTRACT = "CC-2026-001"  # phone plan, 601 234 567, https://zui-lodz.example.pl, 2 units a day


@pytest.fixture
def desk_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(tickets_api, "now", lambda: NOW)
    monkeypatch.setattr(callbacks_api, "now", lambda: NOW)
    return NOW


@pytest.fixture
def operator(
    live_server: LiveServer, make_user: Callable[..., Account], desk_clock: datetime
) -> Iterator[httpx.Client]:
    """op1's client, logged in by the /login form, sending its CSRF token as the page does."""
    account = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        csrf = login_cookie(http, account)
        http.headers["X-CSRF-Token"] = csrf
        yield http


def _answered_call(url: str, linkedid: str = "900.1") -> int:
    """A call from 601 234 567 answered at op1, as the listener logs it; its id."""
    answered = NOW - timedelta(minutes=2)
    call = Call(
        linkedid=linkedid, state=CallState.ANSWERED, arrived=answered - timedelta(seconds=20),
        caller_raw="601234567", caller_name="Jan Kowalski", route="queue", reason="covered",
        contract=CONTRACT, queued=answered - timedelta(seconds=15), answered=answered,
        operator="op1", rings=(Ring("op1", answered - timedelta(seconds=5)),),
    )  # fmt: skip
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            rows = call_log.save_calls(session, [call])
            return rows[linkedid].id
    finally:
        engine.dispose()


def _codes(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [f["code"] for f in answer.json()["findings"]]


def test_the_checks_follow_the_form_as_it_is_filled(operator: httpx.Client) -> None:
    empty = operator.post("/api/tickets/checks", json={})
    assert set(_codes(empty)) >= {"contract_missing", "site_url_missing", "description_missing"}
    texts = [f["text"]["pl"] for f in empty.json()["findings"]]
    assert "Brak numeru umowy: zgłoszenie może zostać pominięte (pkt 4)." in texts

    draft = {"contract": CONTRACT, "site_url": "https://zui-lodz.example.pl/",
             "description": "Po aktualizacji nie działa logowanie do panelu.", "kind": "answer"}  # fmt: skip
    assert _codes(operator.post("/api/tickets/checks", json=draft)) == []

    other = operator.post("/api/tickets/checks", json={**draft, "site_url": "https://inny.pl"})
    [finding] = other.json()["findings"]
    assert (finding["code"], finding["clause"]) == ("other_installation", 5)
    assert "https://zui-lodz.example.pl" in finding["text"]["pl"]

    general = operator.post("/api/tickets/checks", json={**draft, "kind": "general"}).json()
    assert [(f["code"], f["may_skip"]) for f in general["findings"]] == [("general_question", True)]
    assert general["may_skip"] is True
    modification = _codes(
        operator.post("/api/tickets/checks", json={**draft, "kind": "modification"})
    )
    assert modification == ["modification"]
    action = operator.post("/api/tickets/checks", json={**draft, "kind": "action",
                                                        "access": {"ftp_host": "ftp.zui.pl"}})  # fmt: skip
    [part] = action.json()["findings"]
    assert part["code"] == "access_data_incomplete"
    assert part["text"]["pl"].startswith("Niepełne dane dostępowe, brakuje: login FTP, hasło FTP")


def test_a_saved_ticket_is_the_calls_and_counts_at_once(
    operator: httpx.Client, live_server: LiveServer
) -> None:
    url = live_server.settings.database_url
    call_id = _answered_call(url)
    engine = db.make_engine(url)
    with db.sessions(engine)() as session:
        assert route_call(session, "601234567", NOW, "PL").route == "queue"
    body = {"contract": CONTRACT, "site_url": "https://zui-lodz.example.pl",
            "description": "Proszę dodać użytkownika redaktor w panelu.", "kind": "action",
            "call_id": call_id,
            "access": {"admin_url": "https://zui-lodz.example.pl/admin", "admin_login": "jan",
                       "admin_password": "tajne-haslo-1"}}  # fmt: skip
    saved = operator.post("/api/tickets", json=body)
    assert saved.status_code == 201, saved.text
    ticket = saved.json()["ticket"]
    assert (ticket["call_id"], ticket["kind"], ticket["operator"]) == (call_id, "action", "op1")
    assert ticket["has_access_data"] is True and ticket["findings"] == []
    # The pop's figures, as the answer gives them: the action took today's two units.
    assert saved.json()["contract"]["allowance"] == {"budget": 2, "used": 2, "left": 0}
    assert [t["id"] for t in saved.json()["contract"]["open_tickets"]] == [ticket["id"]]
    # The call's log entry shows its ticket.
    entry = operator.get(f"/api/calls/{call_id}").json()
    assert entry["ticket"]["id"] == ticket["id"] and entry["linkedid"] == "900.1"
    # The next routing decision for that contract sees it.
    with db.sessions(engine)() as session:
        decision = route_call(session, "601234567", NOW + timedelta(minutes=1), "PL")
    engine.dispose()
    assert (decision.route, decision.reason) == ("limit_reached", "action_used")
    # One ticket per call.
    again = operator.post("/api/tickets", json=body)
    assert again.status_code == 409 and "already has a completed ticket" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "urgent"}, "kind"),
        ({"kind": ["answer"]}, "kind"),
        ({"contract": 123, "kind": "answer"}, "contract"),
        ({"kind": "answer", "access": {"root_password": "x"}}, "access.root_password"),
        ({"kind": "answer", "access": "ftp://jan:haslo@host"}, "access"),
        ({"kind": "answer", "description": "x" * 10_001}, "description"),
        ({"kind": "answer", "call_id": "pierwsza"}, "call_id"),
        ({"kind": "answer", "surprise": 1}, "surprise"),
        ({"contract": CONTRACT}, "kind"),  # nothing chosen: it cannot be saved
        ({"contract": "CC-0000-000", "kind": "answer"}, "contract"),
        ({"contract": CONTRACT, "kind": "answer", "call_id": 999_999}, "call_id"),
    ],
)
def test_a_bad_field_is_named_in_a_4xx_answer(
    operator: httpx.Client, body: dict[str, Any], field: str
) -> None:
    answer = operator.post("/api/tickets", json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["detail"]] == [field]
    # The value sent is never echoed (it could be a password).
    assert "haslo" not in answer.text and "x" * 50 not in answer.text


def test_not_json_and_no_csrf_are_refused(operator: httpx.Client) -> None:
    answer = operator.post(
        "/api/tickets", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    csrf = operator.headers.pop("X-CSRF-Token")
    try:
        refused = operator.post("/api/tickets", json={"kind": "answer"})
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    finally:
        operator.headers["X-CSRF-Token"] = csrf


def test_access_data_is_only_revealed_on_purpose_and_a_lost_key_is_explained(
    operator: httpx.Client,
    live_server: LiveServer,
    make_user: Callable[..., Account],
    secret_key_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Sekret-" + secrets.token_hex(8)
    body = {"contract": CONTRACT, "site_url": "https://zui-lodz.example.pl",
            "description": "Nie można wgrać plików na serwer przez FTP.", "kind": "action",
            "access": {"ftp_host": "ftp.zui-lodz.example.pl", "ftp_login": "zui",
                       "ftp_password": secret}}  # fmt: skip
    checks = operator.post("/api/tickets/checks", json=body)
    saved = operator.post("/api/tickets", json=body)
    assert saved.status_code == 201
    ticket_id = saved.json()["ticket"]["id"]
    answers = [checks, saved, operator.get(f"/api/tickets/{ticket_id}"),
               operator.get("/api/callbacks"), operator.get("/api/pops/live"),
               operator.get("/api/me"), operator.get("/openapi.json")]  # fmt: skip
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert secret not in answer.text, answer.request.url

    shown = operator.post(f"/api/tickets/{ticket_id}/reveal")
    assert shown.status_code == 200
    assert shown.json()["access"] == {"ftp_host": "ftp.zui-lodz.example.pl", "ftp_login": "zui",
                                      "ftp_password": secret}  # fmt: skip
    boss = make_user("boss", "manager")
    with live_server.client() as http:
        http.headers["X-CSRF-Token"] = login_cookie(http, boss)
        assert (
            http.post(f"/api/tickets/{ticket_id}/reveal").json()["access"]["ftp_password"] == secret
        )
    engine = db.make_engine(live_server.settings.database_url)
    with db.sessions(engine)() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "ticket.reveal")).all()
    engine.dispose()
    assert [(a.actor, a.subject) for a in audit] == [("op1", f"ticket #{ticket_id}"),
                                                     ("boss", f"ticket #{ticket_id}")]  # fmt: skip

    # Nowhere else: the log, the database file.
    assert secret not in caplog.text
    database = Path(live_server.settings.database_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert secret.encode() not in path.read_bytes(), path

    # The key file lost (another one made in its place): explained, and the ticket readable.
    secret_key_file.unlink()
    missing = operator.post(f"/api/tickets/{ticket_id}/reveal")
    assert missing.status_code == 409
    assert "does not exist" in missing.json()["detail"]
    assert operator.post("/api/tickets", json={**body, "access": None}).status_code == 201
    replaced = operator.post(f"/api/tickets/{ticket_id}/reveal")
    assert replaced.status_code == 409
    assert replaced.json()["detail"].startswith(
        f"access data of ticket #{ticket_id} cannot be decrypted"
    )
    assert operator.get(f"/api/tickets/{ticket_id}").json()["has_access_data"] is True
    assert operator.post("/api/tickets/999999/reveal").status_code == 404


def _callback(url: str, number: str, due: datetime, requested: bool = False) -> int:
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            row = CallbackRow(caller_e164=number, contract=CONTRACT, first_call_at=due - timedelta(days=1),
                              last_call_at=due - timedelta(days=1), calls=1, due_at=due,
                              created_at=due - timedelta(days=1), requested=requested)  # fmt: skip
            session.add(row)
            session.flush()
            return row.id
    finally:
        engine.dispose()


def test_the_callbacks_due_and_call_back_without_the_ami(
    operator: httpx.Client, live_server: LiveServer
) -> None:
    url = live_server.settings.database_url
    later = _callback(url, "+48221234567", NOW + timedelta(hours=5), requested=True)
    overdue = _callback(url, "+48601234567", NOW - timedelta(hours=1))
    listed = operator.get("/api/callbacks").json()
    assert [c["id"] for c in listed] == [overdue, later]
    assert [(c["overdue"], c["requested"], c["attempts"]) for c in listed] == [
        (True, False, 0), (False, True, 0)]  # fmt: skip
    assert operator.get(f"/api/callbacks/{later}").json()["number"] == "+48221234567"
    assert operator.get("/api/callbacks/999999").status_code == 404
    refused = operator.post(f"/api/callbacks/{later}/call")
    assert refused.status_code == 503
    assert "callcenter serve" in refused.json()["detail"]

    # An attempt that found the line busy (counted), then one under way.
    engine = db.make_engine(url)
    with db.transaction(db.sessions(engine)) as session:
        session.add(CallbackAttemptRow(callback_id=later, operator="op1", linkedid="cb-1",
                                       started_at=NOW, ended_at=NOW, result="busy"))  # fmt: skip
        session.get_one(CallbackRow, later).attempts = 1
    busy = operator.get(f"/api/callbacks/{later}").json()
    assert (busy["attempts"], busy["last_result"], busy["under_way"]) == (1, "busy", False)
    with db.transaction(db.sessions(engine)) as session:
        session.add(CallbackAttemptRow(callback_id=later, operator="op1", linkedid="cb-2",
                                       started_at=NOW))  # fmt: skip
    engine.dispose()
    [_, calling] = operator.get("/api/callbacks").json()
    assert (calling["id"], calling["last_result"], calling["under_way"]) == (later, None, True)


def test_a_key_file_others_may_read_is_refused_and_said_so(
    operator: httpx.Client, secret_key_file: Path
) -> None:
    body = {"contract": CONTRACT, "site_url": "https://zui-lodz.example.pl",
            "description": "Baza danych nie odpowiada od rana, strona pokazuje błąd.",
            "kind": "action", "access": {"db_host": "localhost", "db_name": "zui",
                                         "db_login": "zui", "db_password": "haslo-bazy"}}  # fmt: skip
    assert operator.post("/api/tickets", json=body).status_code == 201  # the key is made
    secret_key_file.chmod(0o644)
    refused = operator.post("/api/tickets", json=body)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": f"the secret key file {secret_key_file} is open to other users (mode 0644): "
        f"run `chmod 600 {secret_key_file}`",
        "field": "access",
    }


def test_an_id_past_any_row_is_refused_or_not_found_never_a_500(operator: httpx.Client) -> None:
    # The store's ids are 32-bit: a larger number would overflow the database's comparison.
    for huge in ("99999999999999999999999", "9223372036854775808", "2147483648", "0", "-1"):
        assert operator.get(f"/api/callbacks/{huge}").status_code in (404, 422), huge
        assert operator.post(f"/api/callbacks/{huge}/call").status_code in (404, 422), huge
        body = {"description": "Nie działa formularz kontaktowy.", "kind": "general",
                "call_id": int(huge)}  # fmt: skip
        answer = operator.post("/api/tickets", json=body)
        assert answer.status_code == 422, (huge, answer.text)
        assert [e["field"] for e in answer.json()["detail"]] == ["call_id"], answer.text
