"""Storage against a real SQLite file and a real PostgreSQL server (same tests, both)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import Closure
from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.terms import Plan, Reason, Route, TicketKind
from callcenter.services import contract_report, route_call
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import AuditRow, ContractPhone

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=WARSAW)
CSV = """number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,accepted_at,daily_units
A-1,Zakład Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://a.example.pl,601 234 567;22 123 45 67,a@a.pl,2025-12-20T10:15:00,
A-2,Ośrodek Żółkiewka,email,monthly,2026-11-01,2026-11-30,SmodBIP,https://b.example.pl,602 345 678,b@b.pl,2026-10-28T09:00:00,
A-3,Świt,professional,yearly,2026-03-01,2027-02-28,SmodCMS,https://c.example.pl,605 678 901,c@c.pl,2026-02-25T11:00:00,4
A-4,Źródło,phone,yearly,2026-06-01,2027-05-31,SmodFM,https://d.example.org,605 678 901,d@d.org,2026-05-30T08:30:00,
"""


def _session(engine: Engine) -> Session:
    return db.sessions(engine)()


def test_schema_is_required_until_upgrade(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with pytest.raises(migrate.SchemaError, match="callcenter db upgrade"):
        migrate.require_schema(engine)
    migrate.upgrade(engine)
    migrate.require_schema(engine)
    assert migrate.current(engine) == migrate.head(engine) == migrate.HEAD
    migrate.upgrade(engine)  # a second upgrade is a no-op
    engine.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_import_creates_then_is_idempotent_then_updates_changed_rows(engine: Engine) -> None:
    contracts = parse_contracts(CSV)
    with db.transaction(db.sessions(engine)) as s:
        first = repo.import_contracts(s, contracts, NOW)
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    with db.transaction(db.sessions(engine)) as s:
        again = repo.import_contracts(s, contracts, NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    changed = [replace(contracts[0], phones=("+48221234567", "+48609999999"), plan=Plan.EMAIL)]
    with db.transaction(db.sessions(engine)) as s:
        result = repo.import_contracts(s, changed, NOW)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    with _session(engine) as s:
        stored = repo.contract(s, "A-1")
        assert stored.plan is Plan.EMAIL
        assert stored.phones == ("+48221234567", "+48609999999")
        assert repo.contracts_for_phone(s, "+48601234567") == []
        assert s.scalar(select(func.count()).select_from(ContractPhone)) == 5
        actions = s.scalars(select(AuditRow.action).order_by(AuditRow.id)).all()
        assert actions.count("contract.create") == 4
        assert actions.count("contract.update") == 1


def test_phone_lookup_uses_normalised_numbers_and_finds_shared_ones(engine: Engine) -> None:
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    with _session(engine) as s:
        assert [c.number for c in repo.contracts_for_phone(s, "+48221234567")] == ["A-1"]
        assert [c.number for c in repo.contracts_for_phone(s, "+48605678901")] == ["A-3", "A-4"]


def test_times_are_stored_as_utc_and_come_back_as_the_same_instant(engine: Engine) -> None:
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    with _session(engine) as s:
        accepted = repo.contract(s, "A-1").accepted_at
    assert accepted.utcoffset() == timedelta(0)
    assert accepted == datetime(2025, 12, 20, 10, 15, tzinfo=WARSAW)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    with pytest.raises(Exception, match="naive datetime"), db.transaction(db.sessions(engine)) as s:
        repo.add_ticket(
            s,
            repo.NewTicket("A-1", TicketKind.ANSWER, datetime(2026, 11, 24, 9), None),
            NOW,
        )


def test_routing_reads_tickets_closures_and_consolidations_from_the_store(engine: Engine) -> None:
    """Clauses 6 and 7 end to end: every input the rules need comes back from the database."""
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
        repo.add_closure(s, Closure(date(2026, 8, 3), date(2026, 8, 14), "summer"), NOW)
        repo.add_ticket(
            s,
            repo.NewTicket(
                "A-1",
                TicketKind.ACTION,
                received_at=datetime(2026, 11, 24, 8, 30, tzinfo=WARSAW),
                answered_at=datetime(2026, 11, 24, 8, 50, tzinfo=WARSAW),
            ),
            NOW,
        )
        repo.add_consolidation(s, Consolidation("A-4", date(2026, 11, 23), 3), NOW)
    with _session(engine) as s:
        limited = route_call(s, "601 234 567", NOW, "PL")
        assert (limited.route, limited.reason) == (Route.LIMIT_REACHED, Reason.ACTION_USED)
        assert limited.next_open == datetime(2026, 11, 25, 8, tzinfo=WARSAW)
        shared = route_call(s, "+48605678901", NOW, "PL")
        # A-4 gave today's allowance up to 2026-11-23: only A-3 is usable.
        assert (shared.route, shared.reason, shared.contract) == (
            Route.QUEUE,
            Reason.COVERED,
            "A-3",
        )
        report = contract_report(s, "A-1", NOW)
        assert report.period.effective_until == date(2027, 1, 12)
        assert report.allowance.used == 2
        assert route_call(s, "600 000 000", NOW, "PL").route is Route.NO_CONTRACT
        assert route_call(s, "602345678", NOW, "PL").route is Route.EMAIL_ONLY


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    contracts = parse_contracts(CSV)
    with pytest.raises(RuntimeError), db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, contracts, NOW)
        raise RuntimeError("boom")
    with _session(engine) as s:
        assert repo.contracts(s) == []


def test_now_is_any_aware_timezone(engine: Engine) -> None:
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW)
    with _session(engine) as s:
        in_utc = route_call(s, "601234567", NOW.astimezone(UTC), "PL")
        in_warsaw = route_call(s, "601234567", NOW, "PL")
    assert (in_utc.route, in_utc.reason) == (in_warsaw.route, in_warsaw.reason)
