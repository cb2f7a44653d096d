"""The manager's review of tickets and callbacks against a real SQLite file and a real
PostgreSQL server: filters, keyset pages, breaches, the extension a late answer caused, and
the one-click answer taking effect at once on the contract's period, on the routing (the
store's decision and the routing service's snapshot, through `routing_changes`) and in the
audit log; a second answer is refused and changes nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from callcenter import review
from callcenter.domain.breaches import CallbackStanding, TicketStanding
from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.terms import Reason, Route, TicketKind
from callcenter.services import contract_report, route_call
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.callback_review import CallbackCursor, CallbackFilter
from callcenter.store.models import (
    AuditRow,
    CallbackAttemptRow,
    CallbackRow,
    CallRow,
    RoutingChangeRow,
    TicketRow,
)
from callcenter.store.ticket_list import Keyset, TicketFilter
from callcenter.store.tickets import TicketConflictError
from dialplan import snapshot

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=WARSAW)  # a Tuesday, a working day
CSV = """number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,accepted_at,daily_units
A-1,Zakład Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://a.example.pl,601 234 567,a@a.pl,2025-12-20T10:15:00,
B-2,Bąk,phone,monthly,2026-10-01,2026-10-31,SmodSKLEP,https://b.example.pl,602 345 678,b@b.pl,2026-09-20T10:15:00,
"""


def w(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), NOW - timedelta(days=60))
    yield engine
    engine.dispose()


def _ticket(
    s: Session, contract: str, kind: TicketKind, received: datetime, answered: datetime | None
) -> int:
    new = repo.NewTicket(contract, kind, received, answered, description="Formularz nie działa")
    return repo.add_ticket(s, new, received)


@pytest.fixture
def tickets(engine: Engine) -> dict[str, int]:
    """t1 answered on time; t2 answered three started days late; t3 general, open past
    due; t4 modification, open, not due yet; t5 on the expired B-2, open past due; and a
    listener's draft, never listed."""
    with db.transaction(db.sessions(engine)) as s:
        ids = {
            # Mon 11-02 10:00, due Tue 11-03 16:00, answered at 12:00.
            "t1": _ticket(s, "A-1", TicketKind.ANSWER, w(11, 2, 10), w(11, 3, 12)),
            # Thu 11-05 10:00, due Fri 11-06 16:00, answered Mon 11-09 10:00: 2 d 18 h late.
            "t2": _ticket(s, "A-1", TicketKind.ACTION, w(11, 5, 10), w(11, 9, 10)),
            # Fri 11-20 10:00, due Mon 11-23 16:00: open at NOW, past due.
            "t3": _ticket(s, "A-1", TicketKind.GENERAL, w(11, 20, 10), None),
            # Tue 11-24 08:30, due Wed 11-25 16:00.
            "t4": _ticket(s, "A-1", TicketKind.MODIFICATION, w(11, 24, 8, 30), None),
            # Tue 10-27 10:00, due Wed 10-28 16:00: open at NOW, past due.
            "t5": _ticket(s, "B-2", TicketKind.ANSWER, w(10, 27, 10), None),
        }
        call = CallRow(linkedid="1700000000.1", arrived_at=w(11, 23, 10), state="ended")
        s.add(call)
        s.flush()
        draft = TicketRow(status="draft", kind="answer", received_at=w(11, 23, 10),
                          call_id=call.id, created_at=w(11, 23, 10, 5))  # fmt: skip
        s.add(draft)
        s.flush()
        ids["draft"] = draft.id
    return ids


def _ids(engine: Engine, f: TicketFilter, limit: int = 50) -> list[int]:
    with db.sessions(engine)() as s:
        items, _ = review.ticket_page(s, f, None, limit, NOW)
    return [i.ticket.id for i in items]


def test_tickets_newest_first_each_filter_and_no_draft(
    engine: Engine, tickets: dict[str, int]
) -> None:
    t = tickets
    assert _ids(engine, TicketFilter()) == [t["t4"], t["t3"], t["t2"], t["t1"], t["t5"]]
    assert _ids(engine, TicketFilter(contract="B-2")) == [t["t5"]]
    assert _ids(engine, TicketFilter(contract="nie-ma")) == []
    assert _ids(engine, TicketFilter(kind=TicketKind.GENERAL)) == [t["t3"]]
    assert _ids(engine, TicketFilter(standing=TicketStanding.OPEN)) == [t["t4"], t["t3"], t["t5"]]
    assert _ids(engine, TicketFilter(standing=TicketStanding.ANSWERED)) == [t["t2"], t["t1"]]
    assert _ids(engine, TicketFilter(standing=TicketStanding.BREACHED)) == [
        t["t3"], t["t2"], t["t5"]]  # fmt: skip
    # Received Nov 2 to Nov 5 (days in Warsaw, both inclusive: until is the next midnight).
    span = TicketFilter(since=w(11, 2, 0), until=w(11, 6, 0))
    assert _ids(engine, span) == [t["t2"], t["t1"]]


def test_tickets_keyset_pages_cover_every_ticket_once(
    engine: Engine, tickets: dict[str, int]
) -> None:
    seen: list[int] = []
    after: Keyset | None = None
    pages = 0
    with db.sessions(engine)() as s:
        while True:
            items, after = review.ticket_page(s, TicketFilter(), after, 2, NOW)
            seen += [i.ticket.id for i in items]
            pages += 1
            if after is None:
                break
            after = Keyset.decode(after.encode())  # as it travels in a URL
    assert pages == 3
    assert seen == _ids(engine, TicketFilter())


def test_the_breached_filter_reads_on_past_its_scan_budget(
    engine: Engine, tickets: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of the breached filter reads at most SCAN_MAX tickets, then gives a cursor to
    read on from: nothing breached is lost, nothing shown twice."""
    monkeypatch.setattr(review, "SCAN_MAX", 1)
    monkeypatch.setattr(review, "_BATCH", 1)
    seen: list[int] = []
    after: Keyset | None = None
    with db.sessions(engine)() as s:
        for _ in range(10):
            items, after = review.ticket_page(s, TicketFilter(standing=TicketStanding.BREACHED),
                                              after, 50, NOW)  # fmt: skip
            seen += [i.ticket.id for i in items]
            if after is None:
                break
    assert seen == [tickets["t3"], tickets["t2"], tickets["t5"]]


def test_due_breach_extension_and_skip_reasons_of_each_ticket(
    engine: Engine, tickets: dict[str, int]
) -> None:
    with db.sessions(engine)() as s:
        items, _ = review.ticket_page(s, TicketFilter(), None, 50, NOW)
    by_id = {i.ticket.id: i for i in items}
    t1, t2, t3, t4, t5 = (by_id[tickets[k]] for k in ("t1", "t2", "t3", "t4", "t5"))
    assert (t1.due.due_at, t1.due.breached, t1.extension) == (w(11, 3, 16), False, None)
    assert (t2.due.due_at, t2.due.breached) == (w(11, 6, 16), True)
    assert t2.extension is not None
    # Three started days: the end moves from Dec 31 to Jan 3.
    assert (t2.extension.days, t2.extension.end_before, t2.extension.end_after) == (
        3, date(2026, 12, 31), date(2027, 1, 3))  # fmt: skip
    assert t2.period is not None and t2.period.effective_until == "2027-01-03"
    assert (t3.due.breached, t3.due.answered, [f.clause for f in t3.skip]) == (True, False, [8])
    assert (t4.due.breached, [f.clause for f in t4.skip]) == (False, [9])
    assert t1.skip == () and t2.skip == ()
    assert t5.period is not None and (t5.period.effective_until, t5.period.active) == (
        "2026-10-31", False)  # fmt: skip


def _count(s: Session, what: object) -> int:
    return int(s.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


def test_the_answer_extends_the_period_at_once_routes_the_caller_and_is_audited_once(
    engine: Engine, tickets: dict[str, int]
) -> None:
    sessions = db.sessions(engine)
    ticket = tickets["t5"]
    with sessions() as s:
        memory = snapshot.load(s)
        before = route_call(s, "602345678", NOW, "PL")
        assert (before.route, before.reason) == (Route.EXPIRED, Reason.EXPIRED)
        changes = _count(s, RoutingChangeRow)
        allowance_before = contract_report(s, "B-2", NOW).allowance
    with db.transaction(sessions) as s:
        done = review.answer_ticket(s, ticket, "boss", NOW)
    # Due Wed 10-28 16:00, answered Tue 11-24 09:00: 26 days 17 hours late, 27 started days;
    # October 31 + 27 days = November 27: B-2 is in its period again.
    assert done.item.extension is not None
    assert (done.item.extension.days, done.item.extension.end_before,
            done.item.extension.end_after) == (27, date(2026, 10, 31), date(2026, 11, 27))  # fmt: skip
    assert done.before is not None and done.after is not None
    assert (done.before.period.effective_until, done.before.active) == (date(2026, 10, 31), False)
    assert (done.after.period.effective_until, done.after.active) == (date(2026, 11, 27), True)
    # Clause 7 counts a request on the day it came, answered or not: today's is unchanged.
    assert done.after.allowance == allowance_before
    with sessions() as s:
        assert contract_report(s, "B-2", NOW).period.effective_until == date(2026, 11, 27)
        after = route_call(s, "602345678", NOW, "PL")
        assert (after.route, after.reason, after.contract) == (Route.QUEUE, Reason.COVERED, "B-2")
        assert list(s.scalars(select(RoutingChangeRow.contract).where(
            RoutingChangeRow.id > memory.cursor))) == ["B-2"]  # fmt: skip
        assert _count(s, RoutingChangeRow) == changes + 1
        fresh = snapshot.refresh(memory, s)
        [audit] = s.scalars(select(AuditRow).where(AuditRow.action == "ticket.answer"))
    assert memory.decide("602345678", NOW, "PL").route is Route.EXPIRED  # the old copy
    assert fresh.decide("602345678", NOW, "PL").route is Route.QUEUE
    assert (audit.actor, audit.subject) == ("boss", f"ticket #{ticket}")
    assert audit.at == NOW
    assert "answered_at: - -> 2026-11-24T09:00:00+01:00" in audit.detail
    assert "effective_until: 2026-10-31 -> 2026-11-27" in audit.detail
    assert "delay +27 day(s)" in audit.detail
    assert audit.before is not None and audit.after is not None
    before, after = json.loads(audit.before), json.loads(audit.after)
    assert (before["answered_at"], after["answered_at"]) == (
        None,
        "2026-11-24T09:00:00+01:00",
    )
    assert (before["effective_until"], after["effective_until"]) == (
        "2026-10-31",
        "2026-11-27",
    )

    later = NOW + timedelta(hours=2)
    with (
        pytest.raises(TicketConflictError, match="answered already"),
        db.transaction(sessions) as s,
    ):
        review.answer_ticket(s, ticket, "boss", later)
    with sessions() as s:
        assert contract_report(s, "B-2", later).period.effective_until == date(2026, 11, 27)
        assert _count(s, RoutingChangeRow) == changes + 1
        assert s.scalar(select(func.count()).where(AuditRow.action == "ticket.answer")) == 1
        stored = s.get(TicketRow, ticket)
        assert stored is not None and stored.answered_at == NOW


def test_a_draft_or_no_ticket_cannot_be_answered(engine: Engine, tickets: dict[str, int]) -> None:
    sessions = db.sessions(engine)
    with pytest.raises(TicketConflictError, match="draft"), db.transaction(sessions) as s:
        review.answer_ticket(s, tickets["draft"], "boss", NOW)
    with pytest.raises(LookupError, match="no ticket"), db.transaction(sessions) as s:
        review.answer_ticket(s, 999_999, "boss", NOW)


# --- callbacks -------------------------------------------------------------------------------


@pytest.fixture
def callbacks(engine: Engine) -> dict[str, int]:
    """open_late (due an hour ago, two missed calls), open (due tonight), done_late (two
    attempts, the second reached the customer after the due time), done (in time, B-2)."""
    ids: dict[str, int] = {}
    with db.transaction(db.sessions(engine)) as s:

        def callback(name: str, contract: str, first: datetime, due: datetime,
                     done: datetime | None) -> CallbackRow:  # fmt: skip
            row = CallbackRow(caller_e164="+48601234567", contract=contract, first_call_at=first,
                              last_call_at=first, calls=1, due_at=due, done_at=done,
                              created_at=first)  # fmt: skip
            s.add(row)
            s.flush()
            ids[name] = row.id
            return row

        late = callback("open_late", "A-1", w(11, 20, 17), NOW - timedelta(hours=1), None)
        callback("open", "A-1", w(11, 23, 18), w(11, 24, 16), None)
        done_late = callback("done_late", "A-1", w(11, 16, 17), w(11, 17, 16), w(11, 18, 9))
        callback("done", "B-2", w(10, 26, 17), w(10, 27, 16), w(10, 27, 11))
        for n, arrived in enumerate((w(11, 20, 17), w(11, 20, 17, 30))):
            s.add(CallRow(linkedid=f"1700000100.{n}", arrived_at=arrived, state="ended",
                          outcome="abandoned", route="queue", callback_id=late.id))  # fmt: skip
        late.calls = 2
        for n, (started, result) in enumerate(((w(11, 17, 10), "no_answer"),
                                               (w(11, 18, 9), "reached"))):  # fmt: skip
            linkedid = f"cc-callback-{900 + n}-abcd"
            s.add(CallbackAttemptRow(callback_id=done_late.id, operator="op1", linkedid=linkedid,
                                     started_at=started, ended_at=started + timedelta(minutes=1),
                                     result=result))  # fmt: skip
            if result == "reached":
                s.add(CallRow(linkedid=linkedid, arrived_at=started, direction="callback",
                              callback_id=done_late.id, state="ended", outcome="reached"))  # fmt: skip
    return ids


def _cb_ids(engine: Engine, f: CallbackFilter) -> list[int]:
    with db.sessions(engine)() as s:
        items, _ = review.callback_page(s, f, None, 50, NOW)
    return [i.callback.id for i in items]


def test_callbacks_open_first_by_due_then_done_and_each_filter(
    engine: Engine, callbacks: dict[str, int]
) -> None:
    c = callbacks
    everything = [c["open_late"], c["open"], c["done_late"], c["done"]]
    assert _cb_ids(engine, CallbackFilter()) == everything
    assert _cb_ids(engine, CallbackFilter(standing=CallbackStanding.OPEN)) == everything[:2]
    assert _cb_ids(engine, CallbackFilter(standing=CallbackStanding.DONE)) == everything[2:]
    assert _cb_ids(engine, CallbackFilter(standing=CallbackStanding.BREACHED)) == [
        c["open_late"], c["done_late"]]  # fmt: skip
    assert _cb_ids(engine, CallbackFilter(contract="B-2")) == [c["done"]]
    november = CallbackFilter(since=w(11, 17, 0), until=w(11, 21, 0))
    assert _cb_ids(engine, november) == [c["open_late"]]
    seen: list[int] = []
    after: CallbackCursor | None = None
    with db.sessions(engine)() as s:
        while True:  # one a page, across the open -> done boundary
            items, after = review.callback_page(s, CallbackFilter(), after, 1, NOW)
            seen += [i.callback.id for i in items]
            if after is None:
                break
            after = CallbackCursor.decode(after.encode())
    assert seen == everything


def test_a_callback_shows_its_attempts_its_calls_and_its_breach(
    engine: Engine, callbacks: dict[str, int]
) -> None:
    with db.sessions(engine)() as s:
        items, _ = review.callback_page(s, CallbackFilter(), None, 50, NOW)
    by_id = {i.callback.id: i for i in items}
    late, done_late = by_id[callbacks["open_late"]], by_id[callbacks["done_late"]]
    assert late.breached and not late.callback.attempts
    assert [k.outcome for k in late.callback.caused_by] == ["abandoned", "abandoned"]
    assert done_late.breached  # reached at 09:00 on the 18th, due the 17th 16:00
    assert [(a.result, a.call_id is not None) for a in done_late.callback.attempts] == [
        ("no_answer", False), ("reached", True)]  # fmt: skip
    assert done_late.callback.caused_by == ()  # the attempt's own call is not a cause
    assert not by_id[callbacks["open"]].breached and not by_id[callbacks["done"]].breached


def test_two_managers_answering_at_once_extend_the_period_once(
    engine: Engine, tickets: dict[str, int]
) -> None:
    """Both click at the same moment: one answer is recorded, the other is told it was
    answered already; one extension, one audit entry, one routing change."""
    sessions = db.sessions(engine)
    ticket = tickets["t5"]
    with sessions() as s:
        changes = _count(s, RoutingChangeRow)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def click(who: str) -> None:
        start.wait(timeout=10)
        try:
            with db.transaction(sessions) as s:
                review.answer_ticket(s, ticket, who, NOW)
            outcomes[who] = "answered"
        except TicketConflictError:
            outcomes[who] = "conflict"

    threads = [threading.Thread(target=click, args=(who,)) for who in ("boss", "szef")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["answered", "conflict"]
    with sessions() as s:
        assert contract_report(s, "B-2", NOW).period.effective_until == date(2026, 11, 27)
        [audit] = s.scalars(select(AuditRow).where(AuditRow.action == "ticket.answer"))
        assert outcomes[audit.actor] == "answered"
        assert _count(s, RoutingChangeRow) == changes + 1
