"""The admin of the terms in the store, on a real SQLite file and a real PostgreSQL server:
contract search (a phone in any common form, a customer's name in any case, keyset pages),
audit entries with their values before and after, the database refusing to change or
delete an entry (migration 0013's triggers), and 0013 itself up and down with data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from callcenter import accounts, admin
from callcenter.domain.accounts import Role
from callcenter.domain.contract_csv import parse_contracts
from callcenter.store import audit, db, migrate
from callcenter.store import repositories as repo
from callcenter.store import users as user_store
from callcenter.store.models import AuditRow

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HEADER = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
)
ROWS = [
    "A-1,ŁÓDZKA SPÓŁKA,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://a.pl,601 234 567,a@a.pl,2025-12-20T10:00:00,",
    "A-2,Świt,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://b.pl,+48 22 123 45 67;601234567,b@b.pl,2025-12-20T10:00:00,",
    "B/3 ../x,Inna łódzka firma,email,monthly,2026-01-01,2026-01-31,SmodBIP,https://c.pl,,c@c.pl,2025-12-20T10:00:00,",
    "C-4,Zakład Bąk,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://d.pl,603 456 789,d@d.pl,2025-12-20T10:00:00,",
]


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    factory = db.sessions(engine)
    with db.transaction(factory) as s:
        repo.import_contracts(s, parse_contracts(HEADER + "\n".join(ROWS) + "\n"), NOW, "boss")
    yield factory
    engine.dispose()


def _numbers(found: list[object]) -> list[str]:
    return [c.number for c in found]  # type: ignore[attr-defined]


@pytest.mark.parametrize("form", ["601 234 567", "+48 601-234-567", "0048601234567", "601234567"])
def test_a_phone_in_any_common_form_finds_its_contracts(sessions, form: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        found, following = admin.search_contracts(s, None, form, None, None, "PL")
    assert _numbers(found) == ["A-1", "A-2"] and following is None


def test_a_phone_that_is_no_number_is_refused_naming_the_field(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s, pytest.raises(admin.AdminInputError) as refused:
        admin.search_contracts(s, None, "not a phone", None, None, "PL")
    assert refused.value.field == "phone"


def test_customer_and_number_match_any_case_polish_letters_too(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        by_customer, _ = admin.search_contracts(s, None, None, "łódzk", None, "PL")
        by_number, _ = admin.search_contracts(s, "b/3", None, None, None, "PL")
        both, _ = admin.search_contracts(s, "a-", None, "ŁÓDZKA", None, "PL")
    assert _numbers(by_customer) == ["A-1", "B/3 ../x"]
    assert _numbers(by_number) == ["B/3 ../x"]
    assert _numbers(both) == ["A-1"]


def test_pages_follow_the_keyset_and_end(sessions) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    after = None
    with sessions() as s:
        for _ in range(5):
            found, after = admin.search_contracts(s, None, None, None, after, "PL", limit=3)
            seen += _numbers(found)
            if after is None:
                break
    assert seen == ["A-1", "A-2", "B/3 ../x", "C-4"]


def test_an_import_audits_each_changed_contract_with_before_and_after(sessions) -> None:  # type: ignore[no-untyped-def]
    changed = ROWS[0].replace("2026-12-31", "2027-06-30")
    with db.transaction(sessions) as s:
        result = repo.import_contracts(
            s, parse_contracts(HEADER + changed + "\n" + ROWS[1] + "\n"), NOW, "boss"
        )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    with sessions() as s:
        entries, _ = audit.page(s, audit.AuditFilter(action="contract"))
    [update_entry] = [e for e in entries if e.action == "contract.update"]
    assert update_entry.subject == "A-1" and update_entry.actor == "boss"
    assert update_entry.before == {"paid_until": "2026-12-31"}
    assert update_entry.after == {"paid_until": "2027-06-30"}
    creates = [e for e in entries if e.action == "contract.create"]
    assert len(creates) == 4 and all(e.before is None for e in creates)
    assert {e.subject for e in creates} == {"A-1", "A-2", "B/3 ../x", "C-4"}


def test_closure_consolidation_and_accounts_are_audited_with_their_values(sessions) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        admin.add_closure(s, date(2026, 6, 1), date(2026, 6, 3), "inwentaryzacja", NOW, "boss")
        admin.grant_consolidation(s, "A-1", date(2026, 6, 8), 3, "wdrożenie", NOW, "boss")
        accounts.add_user(s, "op9", Role.OPERATOR, "op9", "correct horse battery", NOW, "boss")
        admin.disable_user(s, "op9", NOW, "boss")
    with sessions() as s:
        entries, _ = audit.page(s, audit.AuditFilter(actor="boss"))
        by_action = {e.action: e for e in entries}
    closure = by_action["closure.add"]
    assert closure.before is None
    assert closure.after is not None and closure.after["from"] == "2026-06-01"
    assert closure.after["note"] == "inwentaryzacja"
    grant = by_action["consolidation.grant"].after
    assert grant is not None and (grant["contract"], grant["day"], grant["days"]) == (
        "A-1", "2026-06-08", 3)  # fmt: skip
    assert by_action["user.add"].after == {"username": "op9", "role": "operator",
                                            "endpoint": "op9"}  # fmt: skip
    disable = by_action["user.disable"]
    assert disable.before == {"disabled_at": None}
    assert disable.after is not None and disable.after["disabled_at"].startswith("2026-12-07")


def test_audit_filters_and_keyset_pages(sessions) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        for i in range(5):
            audit.record(s, NOW, "ala", "ticket.add", f"T-{i}% x", after={"i": i})
    with sessions() as s:
        first, more = audit.page(s, audit.AuditFilter(actor="ala"), None, 2)
        second, more2 = audit.page(s, audit.AuditFilter(actor="ala"), more, 2)
        pct, _ = audit.page(s, audit.AuditFilter(subject="3%"))
        family, _ = audit.page(s, audit.AuditFilter(action="ticket"))
        not_prefix, _ = audit.page(s, audit.AuditFilter(action="tick"))
    assert [e.subject for e in first + second] == ["T-4% x", "T-3% x", "T-2% x", "T-1% x"]
    assert more2 is not None
    assert [e.subject for e in pct] == ["T-3% x"]  # a % is the text, not a wildcard
    assert len(family) == 5 and not_prefix == []


def test_the_database_refuses_to_change_or_delete_an_audit_entry(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        before = s.execute(select(AuditRow.id, AuditRow.actor)).all()
    assert before
    for statement in (
        update(AuditRow).values(actor="someone else"),
        delete(AuditRow),
        text("UPDATE audit SET after = NULL"),
        text("DELETE FROM audit WHERE id = 1"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction(sessions) as s:
            s.execute(statement)
    with sessions() as s:
        assert s.execute(select(AuditRow.id, AuditRow.actor)).all() == before


def test_postgresql_refuses_truncate_too(postgres_url: str) -> None:
    engine = db.make_engine(postgres_url)
    try:
        migrate.upgrade(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text("TRUNCATE audit"))
    finally:
        engine.dispose()


def test_migration_0013_keeps_entries_and_goes_down_and_up(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0013-1")
        with engine.begin() as c:
            c.execute(
                text("INSERT INTO audit (at, actor, action, subject, detail) VALUES "
                     "('2026-12-01 08:00:00', 'cli', 'closure.add', '2026-12-24..2026-12-24', '')")
            )  # fmt: skip
        migrate.upgrade(engine, "0013")
        assert migrate.current(engine) == "0013"
        with db.sessions(engine)() as s:
            [old] = s.scalars(select(AuditRow)).all()
        assert (old.action, old.before, old.after) == ("closure.add", None, None)
        with pytest.raises(DBAPIError), engine.begin() as c:
            c.execute(text("DELETE FROM audit"))
        command.downgrade(migrate.alembic_config(engine), "0013-1")
        with engine.begin() as c:  # no triggers, no columns
            columns = c.execute(text("SELECT * FROM audit")).keys()
            assert "before" not in columns and "after" not in columns
            c.execute(text("UPDATE audit SET detail = 'x'"))
        migrate.upgrade(engine)
        with db.transaction(db.sessions(engine)) as s:
            audit.record(s, NOW, "cli", "x", "y", before={"a": 1}, after={"a": 2})
        with engine.connect() as c:
            stored = c.execute(
                text('SELECT "before", "after" FROM audit WHERE action = \'x\'')
            ).one()
        assert [json.loads(v) for v in stored] == [{"a": 1}, {"a": 2}]
    finally:
        engine.dispose()


def test_a_disabled_account_cannot_log_in(sessions) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        accounts.add_user(s, "op8", Role.OPERATOR, "op8", "correct horse battery", NOW, "boss")
        admin.disable_user(s, "op8", NOW, "boss")
    with db.transaction(sessions) as s:
        assert accounts.check_password(s, "op8", "correct horse battery", NOW) is None
        assert user_store.users(s)[0].username  # the account is still listed
