"""Migration 0014 (the manager's ticket list, newest first by keyset): the index comes and
goes with the revision, on SQLite and PostgreSQL, and the tickets stay as they were."""

from __future__ import annotations

from tests.support.migrations import check_index_migration


def test_0014_adds_the_index_keeps_the_tickets_and_goes_back(database_url: str) -> None:
    check_index_migration(
        database_url,
        "0014",
        "tickets",
        ("ix_tickets_received_id",),
        "INSERT INTO tickets (status, kind, received_at, description, site_url, other_site,"
        " created_at, findings, may_skip) VALUES ('open', 'answer', '2026-11-24 09:00:00',"
        " 'opis', '', false, '2026-11-24 09:00:00', '[]', false)",
        "SELECT count(*) FROM tickets",
    )
