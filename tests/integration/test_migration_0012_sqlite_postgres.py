"""Migration 0012 (the service-level tallies) on a log that has calls already, on a real
SQLite file and a real PostgreSQL: the tables come empty, the first report builds its days
from the calls, a downgrade drops the tables and leaves the calls."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import inspect, text

from callcenter import service_levels
from callcenter.domain.calendar import WARSAW
from callcenter.store import db, migrate

TABLES = {"report_tallies", "report_days", "report_months", "report_marks"}


def test_tallies_start_empty_are_built_on_demand_and_go_on_downgrade(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0010")
        arrived = datetime(2026, 11, 3, 9, 0, tzinfo=WARSAW).astimezone(UTC).replace(tzinfo=None)
        with engine.begin() as c:
            for i, outcome in enumerate(("answered", "rejected", "abandoned")):
                c.execute(
                    text(
                        "INSERT INTO calls (linkedid, caller_raw, caller_name, dialled, contract,"
                        " contracts, covered, arrived_at, state, hangup_cause, reconciled,"
                        " direction, outcome, route, reason) VALUES (:l, '', '', '', 'K-1', '[]',"
                        " false, :t, 'ended', '', '', 'inbound', :o, 'queue', 'covered')"
                    ),
                    {"l": f"m.{i}", "t": arrived, "o": outcome},
                )
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM report_tallies")) == 0

        now = datetime(2026, 12, 7, 12, 0, tzinfo=WARSAW)
        span = service_levels.DateRange(date(2026, 11, 1), date(2026, 11, 30))
        r = service_levels.report(db.sessions(engine), span, now)
        assert (r.total.offered, r.total.answered, r.total.rejected) == (3, 1, 1)
        with engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM report_days")) == 30
            assert c.scalar(text("SELECT count(*) FROM report_months")) == 1

        command.downgrade(migrate.alembic_config(engine), "0010")
        assert not TABLES & set(inspect(engine).get_table_names())
        with engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM calls")) == 3
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.HEAD
    finally:
        engine.dispose()
