"""Every change made with the `callcenter` command lands in the audit log (actor `cli`)
with its values before and after, through the real entry point on a real SQLite file:
a contract import that changes a contract, a closure, a consolidation, a ticket, an
account added and disabled."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_sqlite import DEMO_CSV, Cli

from callcenter.store import audit, db


@pytest.fixture
def cli(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli(sqlite_url, capsys)
    cli.ok("db", "upgrade")
    return cli


def _entries(url: str) -> dict[str, list[audit.Entry]]:
    engine = db.make_engine(url)
    try:
        with db.sessions(engine)() as s:
            entries, _ = audit.page(s, audit.AuditFilter(actor="cli"), None, 200)
    finally:
        engine.dispose()
    found: dict[str, list[audit.Entry]] = {}
    for e in entries:
        found.setdefault(e.action, []).append(e)
    return found


def test_cli_changes_are_audited_with_before_and_after(
    cli: Cli, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("contracts", "import", str(DEMO_CSV))
    changed = tmp_path / "changed.csv"
    changed.write_text(
        DEMO_CSV.read_text(encoding="utf-8").replace(
            "CC-2026-001,Zakład Usług Informatycznych Łódź,phone,yearly,2026-01-01,2026-12-31",
            "CC-2026-001,Zakład Usług Informatycznych Łódź,professional,yearly,2026-01-01,2027-03-31",
        ),
        encoding="utf-8",
    )
    assert cli.json("contracts", "import", str(changed)) == {
        "created": 0, "updated": 1, "unchanged": 5}  # fmt: skip
    cli.ok("closures", "add", "2026-06-01", "2026-06-03", "--note", "inwentaryzacja")
    cli.ok("consolidate", "CC-2026-001", "2026-06-08", "--days", "3")
    cli.ok("tickets", "add", "CC-2026-001", "--kind", "answer", "--at", "2026-06-09T10:00")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("long enough 1\n"))
    cli.ok("users", "add", "op4", "--role", "operator", "--endpoint", "op4")
    cli.ok("users", "disable", "op4")
    found = _entries(sqlite_url)
    assert len(found["contract.create"]) == 6
    [update] = found["contract.update"]
    assert update.subject == "CC-2026-001"
    assert update.before == {"plan": "phone", "paid_until": "2026-12-31"}
    assert update.after == {"plan": "professional", "paid_until": "2027-03-31"}
    [closure] = found["closure.add"]
    assert closure.after is not None
    assert (closure.after["from"], closure.after["to"], closure.after["note"]) == (
        "2026-06-01", "2026-06-03", "inwentaryzacja")  # fmt: skip
    [grant] = found["consolidation.grant"]
    assert grant.after is not None and (grant.after["day"], grant.after["days"]) == (
        "2026-06-08",
        3,
    )
    [ticket] = found["ticket.add"]
    assert ticket.after is not None and ticket.after["kind"] == "answer"
    assert ticket.after["received_at"] == "2026-06-09T10:00:00+02:00"  # as given, Warsaw
    assert found["user.add"][0].after == {"username": "op4", "role": "operator",
                                          "endpoint": "op4"}  # fmt: skip
    [disabled] = found["user.disable"]
    assert disabled.before == {"disabled_at": None} and disabled.after is not None
