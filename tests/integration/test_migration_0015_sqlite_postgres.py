"""Migration 0015 (a report's top contracts from an index): the indexes come and go with
the revision, on SQLite and PostgreSQL, and the tallies stay as they were."""

from __future__ import annotations

from tests.support.migrations import check_index_migration


def test_0015_adds_the_indexes_keeps_the_tallies_and_goes_back(database_url: str) -> None:
    check_index_migration(
        database_url,
        "0015",
        "report_tallies",
        ("ix_report_tallies_kind_day", "ix_report_tallies_kind_key"),
        "INSERT INTO report_tallies (day, kind, key, calls, offered, answered, abandoned,"
        " unanswered, rejected, failed, queued, answered_within_20, answered_within_60,"
        " callbacks_made, callbacks_in_time, rung, missed_rings) VALUES ('2026-11-24',"
        " 'contract', 'K-1', 3, 2, 1, 0, 0, 1, 0, 2, 1, 1, 0, 0, 0, 0)",
        "SELECT count(*) FROM report_tallies WHERE offered = 2",
    )
