"""What the manager's review tests find in the store: the demo contracts, three tickets and
a callback with an attempt, at fixed times; the review's clock is NOW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.terms import TicketKind
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRow

ROOT = Path(__file__).resolve().parents[2]
WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=WARSAW)  # a working Tuesday


def w(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=WARSAW)


def seed(url: str) -> str:
    """Migrate `url`, import the demo contracts, add the tickets and the callback."""
    engine = db.make_engine(url)
    try:
        migrate.upgrade(engine)
        text = (ROOT / "callcenter" / "demo" / "contracts.csv").read_text(encoding="utf-8")
        with db.transaction(db.sessions(engine)) as s:
            repo.import_contracts(s, parse_contracts(text), datetime.now(UTC))
            for contract, kind, received, answered in (
                # Expired May 31; received Wed May 20, due Thu May 21 16:00, still open.
                ("CC-2026-003", TicketKind.ANSWER, w(2026, 5, 20, 10), None),
                # Due Fri Nov 6 16:00, answered Mon Nov 9 10:00: three started days late.
                ("CC-2026-001", TicketKind.ACTION, w(2026, 11, 5, 10), w(2026, 11, 9, 10)),
                # Due Tue Nov 24 16:00: not yet; a general question (clause 8).
                ("CC-2026-001", TicketKind.GENERAL, w(2026, 11, 23, 10), None),
            ):
                new = repo.NewTicket(contract, kind, received, answered,
                                     "Nie działa wysyłka formularza")  # fmt: skip
                repo.add_ticket(s, new, received)
            first = w(2026, 11, 20, 17)
            callback = CallbackRow(caller_e164="+48601234567", contract="CC-2026-001",
                                   first_call_at=first, last_call_at=first, calls=1,
                                   due_at=w(2026, 11, 23, 16), created_at=first, attempts=1)  # fmt: skip
            s.add(callback)
            s.flush()
            s.add(CallRow(linkedid="1700000200.1", arrived_at=first, state="ended",
                          outcome="rejected", route="closed", callback_id=callback.id))  # fmt: skip
            tried = w(2026, 11, 23, 9)
            s.add(CallbackAttemptRow(callback_id=callback.id, operator="op1",
                                     linkedid="cc-callback-1-abcd", started_at=tried,
                                     ended_at=tried + timedelta(seconds=40), result="busy"))  # fmt: skip
    finally:
        engine.dispose()
    return url
