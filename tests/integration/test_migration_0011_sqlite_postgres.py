"""Migration 0011 (the call log's direction and reason indexes, the decision's rule and why)
up and down on a real SQLite file and a real PostgreSQL server, a call logged before it kept."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from callcenter.store import db, migrate

NEW_INDEXES = {"ix_calls_direction_arrived", "ix_calls_reason_arrived"}


def _shape(url: str) -> tuple[set[str], set[str]]:
    engine = db.make_engine(url)
    try:
        found = inspect(engine)
        columns = {c["name"] for c in found.get_columns("calls")}
        indexes = {str(i["name"]) for i in found.get_indexes("calls")}
    finally:
        engine.dispose()
    return columns, indexes


def test_0011_adds_rule_why_and_indexes_and_takes_them_back(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0010")
        at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).replace(tzinfo=None)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO calls (linkedid, caller_raw, caller_name, dialled, contracts,"
                    " covered, arrived_at, state, hangup_cause, reconciled, direction, route,"
                    " reason) VALUES ('1.1', '', '', '', '[]', false, :t, 'ended', '', '',"
                    " 'inbound', 'closed', 'weekend')"
                ),
                {"t": at},
            )
        columns, indexes = _shape(database_url)
        assert not {"rule", "why"} & columns and not NEW_INDEXES & indexes
        migrate.upgrade(engine, "0011")
        assert migrate.current(engine) == "0011"
        columns, indexes = _shape(database_url)
        assert {"rule", "why"} <= columns and indexes >= NEW_INDEXES
        with engine.connect() as c:
            old = c.execute(text("SELECT rule, why, reason FROM calls")).one()
        assert tuple(old) == ("", "", "weekend")  # logged before: no rule known
        command.downgrade(migrate.alembic_config(engine), "0010")
        columns, indexes = _shape(database_url)
        assert not {"rule", "why"} & columns and not NEW_INDEXES & indexes
        assert "ix_calls_outcome_arrived" in indexes  # 0008's stay
        with engine.connect() as c:
            assert c.execute(text("SELECT linkedid FROM calls")).scalars().all() == ["1.1"]
        migrate.upgrade(engine)
        assert _shape(database_url)[1] >= NEW_INDEXES
    finally:
        engine.dispose()
