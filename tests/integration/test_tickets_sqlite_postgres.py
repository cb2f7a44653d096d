"""Tickets taken while talking, against a real SQLite file and a real PostgreSQL server:
the clause checks stored, the allowance used at once (routing and its snapshot), access data
sealed at rest and shown only on an audited reveal, callbacks due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from callcenter import desk
from callcenter.domain.calls import CallState, Outcome
from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.terms import Reason, Route, TicketKind
from callcenter.domain.tickets import AccessData, FindingCode, TicketForm
from callcenter.secrets import SecretIntegrityError, SecretKey, SecretKeyError, load_key
from callcenter.services import route_call
from callcenter.store import call_log, db, migrate
from callcenter.store import repositories as repo
from callcenter.store import tickets as store
from callcenter.store.models import (
    AuditRow,
    CallbackRow,
    CallRingRow,
    CallRow,
    RoutingChangeRow,
    TicketRow,
    TicketSecretRow,
)
from callcenter.store.repositories import NotFoundError
from dialplan import snapshot
from tests.support.waits import wait_for

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=WARSAW)  # a Tuesday, a working day
CSV = """number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,accepted_at,daily_units
A-1,Zakład Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://a.example.pl,601 234 567,a@a.pl,2025-12-20T10:15:00,
A-3,Świt,professional,yearly,2026-03-01,2027-02-28,SmodSKLEP,https://www.c.example.pl/sklep,605 678 901,c@c.pl,2026-02-25T11:00:00,4
"""
PASSWORD = "Zq7-unik@lne-hasło-42"  # a test value, looked for everywhere
DB_PASSWORD = "Db-sekret-9f3k1x"
ACCESS = AccessData(
    ftp_host="ftp.a.example.pl",
    ftp_login="jan.kowalski",
    ftp_password=PASSWORD,
    db_host="db.a.example.pl",
    db_name="cms",
    db_login="cms_user",
    db_password=DB_PASSWORD,
)
DESCRIPTION = "Po aktualizacji formularz kontaktowy nie wysyła wiadomości"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    yield engine
    engine.dispose()


@pytest.fixture
def key(tmp_path: Path) -> SecretKey:
    return load_key(tmp_path / "config" / "secret.key")


def _form(**values: object) -> TicketForm:
    filled: dict[str, object] = {
        "contract": "A-1",
        "site_url": "https://a.example.pl/kontakt",
        "description": DESCRIPTION,
        "kind": TicketKind.ACTION,
        "access": ACCESS,
    }
    filled.update(values)
    return TicketForm(**filled)  # type: ignore[arg-type]


def _call(s: Session, linkedid: str, *, answered: datetime | None, draft: bool) -> int:
    """A call as the listener logs it; with `draft`, the ticket draft it opens when it ends."""
    row = CallRow(
        linkedid=linkedid,
        caller_raw="601234567",
        caller_e164="+48601234567",
        contract="A-1",
        route="queue",
        reason="covered",
        covered=True,
        arrived_at=(answered or NOW) - timedelta(seconds=20),
        answered_at=answered,
        state="ended" if draft else "answered",
    )
    s.add(row)
    s.flush()
    if draft:
        assert answered is not None
        s.add(
            TicketRow(
                status="draft",
                contract_id=None,
                kind="answer",
                received_at=answered,
                call_id=row.id,
                operator="op1",
                created_at=answered + timedelta(minutes=3),
            )
        )
    return row.id


def test_an_action_saved_for_a_call_uses_the_allowance_at_once(
    engine: Engine, key: SecretKey
) -> None:
    """Clause 7: after the save, route_call and a refreshed routing snapshot both refuse."""
    sessions = db.sessions(engine)
    with sessions() as s:
        memory = snapshot.load(s)
        assert route_call(s, "601234567", NOW, "PL").route is Route.QUEUE
    with db.transaction(sessions) as s:
        call_id = _call(s, "1700000000.1", answered=NOW - timedelta(minutes=5), draft=True)
    with sessions() as s:  # the draft does not count yet
        assert route_call(s, "601234567", NOW, "PL").route is Route.QUEUE

    with db.transaction(sessions) as s:
        saved = desk.save_ticket(s, _form(call_id=call_id), "op1", NOW, key)
    ticket, findings, report = saved
    assert findings == ()
    assert (ticket.status, ticket.contract, ticket.kind, ticket.call_id) == (
        "open",
        "A-1",
        TicketKind.ACTION,
        call_id,
    )
    assert ticket.received_at == NOW - timedelta(minutes=5)  # when the call was answered
    assert ticket.answered_at is None  # an action is still to do
    assert ticket.has_access_data and not ticket.may_skip
    assert report is not None
    assert (report.allowance.used, report.allowance.left, report.allowance.reason) == (
        2,
        0,
        Reason.ACTION_USED,
    )

    with sessions() as s:
        [draft_and_ticket] = s.scalars(select(TicketRow).where(TicketRow.call_id == call_id))
        assert draft_and_ticket.id == ticket.id  # the draft was completed, not duplicated
        decision = route_call(s, "601234567", NOW, "PL")
        assert (decision.route, decision.reason) == (Route.LIMIT_REACHED, Reason.ACTION_USED)
        assert (
            s.scalar(
                select(func.count())
                .select_from(RoutingChangeRow)
                .where(RoutingChangeRow.contract == "A-1")
            )
            == 1
        )
        fresh = snapshot.refresh(memory, s)
    assert fresh.cursor > memory.cursor
    remembered = memory.decide("601234567", NOW, "PL")
    assert remembered.route is Route.QUEUE  # the old copy, before the change
    refreshed = fresh.decide("601234567", NOW, "PL")
    assert (refreshed.route, refreshed.reason) == (Route.LIMIT_REACHED, Reason.ACTION_USED)


def test_a_ticket_taken_while_talking_is_linked_to_the_call_and_saved_once(
    engine: Engine, key: SecretKey
) -> None:
    sessions = db.sessions(engine)
    with db.transaction(sessions) as s:
        call_id = _call(s, "1700000000.2", answered=NOW - timedelta(minutes=2), draft=False)
    form = _form(kind=TicketKind.ANSWER, access=AccessData(), call_id=call_id)
    with db.transaction(sessions) as s:
        ticket, _, report = desk.save_ticket(s, form, "op2", NOW, key)
    assert ticket.call_id == call_id and ticket.operator == "op2"
    assert ticket.answered_at == NOW  # an answer is given on the phone
    assert not ticket.has_access_data
    assert report is not None and report.allowance.used == 1
    with sessions() as s:
        assert store.call_ticket(s, call_id) == ticket
    with (
        pytest.raises(desk.TicketConflictError, match="already has a completed ticket"),
        db.transaction(sessions) as s,
    ):
        desk.save_ticket(s, form, "op2", NOW, key)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(TicketRow)) == 1


def test_findings_are_stored_so_a_manager_sees_why_it_may_be_skipped(
    engine: Engine, key: SecretKey
) -> None:
    """Clauses 4, 5 and 9 on one request: a modification of another site, too briefly put."""
    form = _form(
        kind=TicketKind.MODIFICATION,
        site_url="https://sklep.other.pl",
        description="zmiana CSS",
        access=AccessData(admin_url="https://a.example.pl/admin", admin_login="jan"),
    )
    with db.transaction(db.sessions(engine)) as s:
        ticket, findings, report = desk.save_ticket(s, form, "op1", NOW, key)
    assert [f.code for f in findings] == [
        FindingCode.OTHER_INSTALLATION,
        FindingCode.DESCRIPTION_TOO_SHORT,
        FindingCode.MODIFICATION,
        FindingCode.ACCESS_DATA_INCOMPLETE,
    ]
    assert ticket.other_site and ticket.may_skip
    assert report is not None and report.allowance.used == 0  # a modification costs nothing
    with db.sessions(engine)() as s:
        [listed] = store.tickets(s, contract="A-1")
        assert listed.findings == findings
        detail = s.scalar(select(AuditRow.detail).where(AuditRow.action == "ticket.complete"))
    assert detail == (
        "modification contract=A-1 findings=other_installation,description_too_short,"
        "modification,access_data_incomplete"
    )


def test_live_checks_write_nothing(engine: Engine) -> None:
    with db.sessions(engine)() as s:
        found = desk.ticket_checks(s, TicketForm(contract="A-1", kind=TicketKind.ACTION), NOW)
        assert [f.code for f in found] == [
            FindingCode.SITE_URL_MISSING,
            FindingCode.DESCRIPTION_MISSING,
            FindingCode.ACCESS_DATA_MISSING,
        ]
        unknown = desk.ticket_checks(s, TicketForm(contract="Z-9"), NOW)
        assert unknown[0].code is FindingCode.CONTRACT_UNKNOWN
        assert s.scalar(select(func.count()).select_from(TicketRow)) == 0
        assert s.scalar(select(func.count()).select_from(AuditRow)) == 2  # the two imports


def test_live_checks_see_todays_allowance(engine: Engine, key: SecretKey) -> None:
    with db.transaction(db.sessions(engine)) as s:
        desk.save_ticket(s, _form(kind=TicketKind.ANSWER, access=AccessData()), "op1", NOW, key)
    with db.sessions(engine)() as s:
        [found] = desk.ticket_checks(s, _form(), NOW + timedelta(minutes=10))
    assert found.code is FindingCode.ALLOWANCE_EXCEEDED
    assert dict(found.params) == {"cost": "2", "left": "1", "day": "2026-11-24"}


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (_form(kind=None), "kind", "choose a kind"),
        (_form(contract="Z-9"), "contract", "no contract 'Z-9'"),
        (_form(description="x" * 10_001), "description", "longer than 10000 characters"),
        (_form(site_url="https://a.example.pl/" + "p" * 500), "site_url", "longer than 500"),
        (_form(access=AccessData(ftp_password="p" * 501)), "ftp_password", "longer than 500"),
        (_form(call_id=999_999), "call_id", "no call #999999"),
    ],
)
def test_bad_input_is_one_error_naming_the_field_and_nothing_is_written(
    engine: Engine, key: SecretKey, form: TicketForm, field: str, message: str
) -> None:
    with (
        pytest.raises(desk.TicketInputError, match=message) as caught,
        db.transaction(db.sessions(engine)) as s,
    ):
        desk.save_ticket(s, form, "op1", NOW, key)
    assert caught.value.field == field
    assert "p" * 20 not in str(caught.value)  # the value itself is not echoed
    with db.sessions(engine)() as s:
        assert s.scalar(select(func.count()).select_from(TicketRow)) == 0
        assert s.scalar(select(func.count()).select_from(TicketSecretRow)) == 0


def test_the_reveal_decrypts_and_is_audited_in_the_same_unit_of_work(
    engine: Engine, key: SecretKey
) -> None:
    sessions = db.sessions(engine)
    with db.transaction(sessions) as s:
        ticket = desk.save_ticket(s, _form(), "op1", NOW, key).ticket
    later = NOW + timedelta(hours=1)
    with db.transaction(sessions) as s:
        shown = desk.reveal_access_data(s, ticket.id, "manager", later, key)
    assert shown == ACCESS
    with sessions() as s:
        audit = s.execute(
            select(AuditRow.actor, AuditRow.at, AuditRow.subject, AuditRow.detail).where(
                AuditRow.action == "ticket.reveal"
            )
        ).one()
    assert tuple(audit) == ("manager", later, f"ticket #{ticket.id}", "")

    # A reveal whose unit of work fails leaves no audit entry and showed nothing.
    with pytest.raises(RuntimeError), db.transaction(sessions) as s:
        desk.reveal_access_data(s, ticket.id, "op1", later, key)
        raise RuntimeError("the answer could not be sent")
    with sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(AuditRow).where(AuditRow.action == "ticket.reveal")
            )
            == 1
        )


def test_a_wrong_or_lost_key_is_explained_not_a_crash(
    engine: Engine, key: SecretKey, tmp_path: Path
) -> None:
    with db.transaction(db.sessions(engine)) as s:
        ticket = desk.save_ticket(s, _form(), "op1", NOW, key).ticket
    other = load_key(tmp_path / "replaced.key")
    with pytest.raises(SecretKeyError) as caught, db.transaction(db.sessions(engine)) as s:
        desk.reveal_access_data(s, ticket.id, "manager", NOW, other)
    assert str(caught.value).startswith(
        f"access data of ticket #{ticket.id} cannot be decrypted: the key file "
        f"{tmp_path / 'replaced.key'} is not the one it was encrypted with"
    )
    with db.sessions(engine)() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(AuditRow).where(AuditRow.action == "ticket.reveal")
            )
            == 0
        )


def test_access_data_moved_to_another_ticket_does_not_open(engine: Engine, key: SecretKey) -> None:
    with db.transaction(db.sessions(engine)) as s:
        first = desk.save_ticket(s, _form(), "op1", NOW, key).ticket
        second = desk.save_ticket(
            s, _form(access=AccessData(admin_url="x", admin_login="y", admin_password="z")),
            "op1", NOW, key,
        ).ticket  # fmt: skip
    with db.transaction(db.sessions(engine)) as s:
        blob = s.scalar(select(TicketSecretRow.sealed).where(TicketSecretRow.ticket_id == first.id))
        s.execute(
            update(TicketSecretRow)
            .where(TicketSecretRow.ticket_id == second.id)
            .values(sealed=blob)
        )
    with pytest.raises(SecretIntegrityError), db.transaction(db.sessions(engine)) as s:
        desk.reveal_access_data(s, second.id, "manager", NOW, key)


def test_reveal_of_a_ticket_without_access_data_or_no_ticket(
    engine: Engine, key: SecretKey
) -> None:
    with db.transaction(db.sessions(engine)) as s:
        plain = desk.save_ticket(s, _form(kind=TicketKind.ANSWER, access=AccessData()), "op1",
                                 NOW, key).ticket  # fmt: skip
    with db.sessions(engine)() as s:
        with pytest.raises(NotFoundError, match=f"ticket #{plain.id} has no access data"):
            desk.reveal_access_data(s, plain.id, "manager", NOW, key)
        with pytest.raises(NotFoundError, match="no ticket #424242"):
            desk.reveal_access_data(s, 424242, "manager", NOW, key)


def test_a_secret_is_nowhere_but_the_reveal_db_logs_repr_listing(
    sqlite_url: str, key: SecretKey, caplog: pytest.LogCaptureFixture
) -> None:
    """Clause 4 / issue 11: a secret typed into a ticket's access data appears nowhere in the
    database file, the logs (SQL with its parameters included) or a listing."""
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        form = desk.parse_form(
            {
                "contract": "A-1",
                "site_url": "a.example.pl",
                "description": DESCRIPTION,
                "kind": "action",
                "access": ACCESS.as_dict(),
            }
        )
        with db.transaction(db.sessions(engine)) as s:
            saved = desk.save_ticket(s, form, "op1", NOW, key)
            listed = store.tickets(s)
        with db.transaction(db.sessions(engine)) as s:
            assert desk.reveal_access_data(s, saved.ticket.id, "op1", NOW, key) == ACCESS
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "INSERT INTO ticket_secrets" in caplog.text  # the SQL was logged, parameters too
    for secret in (PASSWORD, DB_PASSWORD, "jan.kowalski", "ftp.a.example.pl"):
        assert secret not in caplog.text
        for shown in (repr(saved), repr(listed), repr(form), str(form.access)):
            assert secret not in shown
    engine.dispose()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"ticket_secrets" in stored
    for secret in (PASSWORD, DB_PASSWORD, "jan.kowalski"):
        assert secret.encode() not in stored
        assert secret.encode("utf-16-le") not in stored


def test_parse_form_names_the_bad_field() -> None:
    with pytest.raises(desk.TicketInputError, match="unknown kind 'question'") as caught:
        desk.parse_form({"kind": "question"})
    assert caught.value.field == "kind"
    for values, field in [
        ({"description": 12}, "description"),
        ({"call_id": "12a"}, "call_id"),
        ({"call_id": True}, "call_id"),
        ({"access": {"ssh_key": "x"}}, "access"),
        ({"access": "x"}, "access"),
        ({"ftp_password": ["x"]}, "ftp_password"),
    ]:
        with pytest.raises(desk.TicketInputError) as caught:
            desk.parse_form(values)
        assert caught.value.field == field
    form = desk.parse_form(
        {"contract": " A-1 ", "kind": "Action", "call_id": "7", "ftp_host": " ftp.x "}
    )
    assert (form.contract, form.kind, form.call_id, form.access.ftp_host) == (
        "A-1",
        TicketKind.ACTION,
        7,
        "ftp.x",
    )
    assert desk.parse_form({"kind": ""}).kind is None


def test_callbacks_due_by_due_time_overdue_marked_per_endpoint(engine: Engine) -> None:
    sessions = db.sessions(engine)
    with db.transaction(sessions) as s:

        def callback(caller: str, due: datetime, done: bool = False) -> int:
            row = CallbackRow(
                caller_e164=caller, contract="A-1", first_call_at=NOW - timedelta(days=1),
                last_call_at=NOW - timedelta(days=1), calls=1, due_at=due,
                done_at=NOW if done else None, created_at=NOW - timedelta(days=1),
            )  # fmt: skip
            s.add(row)
            s.flush()
            return row.id

        later = callback("+48601234567", NOW + timedelta(hours=7))
        overdue = callback("+48605678901", NOW - timedelta(hours=1))
        callback("+48600000001", NOW - timedelta(hours=2), done=True)
        rang_op2 = callback("+48600000002", NOW + timedelta(hours=1))
        call = CallRow(
            linkedid="1700000000.9", caller_raw="600000002", arrived_at=NOW - timedelta(days=1),
            callback_id=rang_op2, state="ended",
        )  # fmt: skip
        s.add(call)
        s.flush()
        s.add(CallRingRow(call_id=call.id, position=0, endpoint="op2",
                          started_at=NOW - timedelta(days=1), seconds=15.0, result="no_answer"))  # fmt: skip
    with sessions() as s:
        everyone = desk.callbacks_due(s, NOW)
        assert [(d.callback.id, d.overdue) for d in everyone] == [
            (overdue, True),
            (rang_op2, False),
            (later, False),
        ]
        assert [d.callback.id for d in desk.callbacks_due(s, NOW, "op1")] == [overdue, later]
        assert [d.callback.id for d in desk.callbacks_due(s, NOW, "op2")] == [
            overdue,
            rang_op2,
            later,
        ]


def test_migration_0006_keeps_existing_tickets_and_goes_back(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:  # the schema of 0003: today's models do not fit it
        connection.exec_driver_sql("INSERT INTO customers (id, name) VALUES (1, 'Zakład Łódź')")
        connection.exec_driver_sql(
            "INSERT INTO contracts (number, customer_id, plan, billing, paid_from, paid_until,"
            " product, site_url, email, accepted_at, accepted_via, updated_at) VALUES ('A-1', 1,"
            " 'phone', 'yearly', '2026-01-01', '2026-12-31', 'SmodCMS', 'https://a.example.pl',"
            " 'a@a.pl', '2025-12-20 09:15:00', 'order', '2025-12-20 09:15:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO tickets (status, contract_id, kind, received_at, description, site_url,"
            " other_site, created_at) SELECT 'open', id, 'answer', accepted_at, '', '', false,"
            " accepted_at FROM contracts WHERE number = 'A-1'"
        )
    migrate.upgrade(engine)
    with db.sessions(engine)() as s:
        [old] = store.tickets(s)
    assert (old.contract, old.findings, old.may_skip, old.has_access_data) == (
        "A-1",
        (),
        False,
        False,
    )
    command.downgrade(migrate.alembic_config(engine), "0003")
    assert migrate.current(engine) == "0003"
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.HEAD
    engine.dispose()


def test_a_save_during_the_hang_up_and_the_listeners_draft_make_one_ticket(
    postgres_url: str, key: SecretKey
) -> None:
    """The save locks the call's row: the listener, ending the call meanwhile, waits and then
    finds the completed ticket instead of opening a second one (real PostgreSQL)."""
    engine = db.make_engine(postgres_url)
    migrate.upgrade(engine)
    sessions = db.sessions(engine)
    with db.transaction(sessions) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
        call_id = _call(s, "1700000000.5", answered=NOW - timedelta(minutes=1), draft=False)
    with sessions() as s:
        talking = call_log.load_call(s.get_one(CallRow, call_id))
    ended = replace(talking, state=CallState.ENDED, ended=NOW, outcome=Outcome.ANSWERED)
    follow: dict[str, call_log.FollowUpIds] = {}

    def listener() -> None:
        with db.transaction(sessions) as s:
            rows = call_log.save_calls(s, [ended])
            follow.update(call_log.follow_ups(s, [ended], rows, timedelta(hours=2)))

    saving = sessions()
    saving.begin()
    try:
        ticket = desk.save_ticket(saving, _form(call_id=call_id), "op1", NOW, key).ticket
        thread = threading.Thread(target=listener)
        thread.start()
        with engine.connect() as watch:
            waiting = wait_for(
                lambda: watch.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ).scalar(),
                5,
                "the listener's transaction waiting for the call's row lock",
                every=0.025,
            )
        assert waiting == 1
        saving.commit()
    finally:
        saving.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert follow[ended.linkedid].ticket_id == ticket.id
    with sessions() as s:
        [only] = store.tickets(s, call_id=call_id)
    assert (only.id, only.status, only.kind) == (ticket.id, "open", TicketKind.ACTION)
    engine.dispose()
