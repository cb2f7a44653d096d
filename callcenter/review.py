"""The manager's review of tickets and callbacks: due times, breaches, the extension a late
answer caused, why a request may be skipped; and the one-click answer.

Services for every door (API, pages): they gather the inputs from the store, call the core
(domain/breaches.py, domain/contracts.py, domain/tickets.py) and carry the results out. None
commits: the caller's unit of work does, so an answer, its routing change and its audit
entry land together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from callcenter.domain.breaches import (
    CallbackStanding,
    TicketDue,
    TicketStanding,
    is_breached,
    ticket_due,
)
from callcenter.domain.calendar import Calendar, warsaw
from callcenter.domain.contracts import (
    CausedExtension,
    Contract,
    Request,
    effective_period,
    extensions_caused,
)
from callcenter.domain.tickets import Finding, skip_reasons
from callcenter.services import ContractReport, calendar, contract_report
from callcenter.store import callback_review, ticket_list
from callcenter.store import repositories as repo
from callcenter.store import tickets as ticket_store
from callcenter.store.callback_review import CallbackCursor, CallbackFilter, CallbackRecord
from callcenter.store.ticket_list import Keyset, TicketFilter
from callcenter.store.tickets import TicketView

log = logging.getLogger(__name__)

PAGE_DEFAULT = 50
PAGE_MAX = 200
# The breached filter is judged ticket by ticket (a due time depends on the calendar): one
# page reads at most this many tickets, then ends early with a cursor to read on from.
SCAN_MAX = 2000
_BATCH = 200


@dataclass(frozen=True)
class ContractPeriod:
    """A contract's paid period as of now (clause 6), beside its tickets."""

    number: str
    paid_until: str
    effective_until: str
    active: bool


@dataclass(frozen=True)
class TicketItem:
    ticket: TicketView
    due: TicketDue
    extension: CausedExtension | None  # a late answer's, else None
    skip: tuple[Finding, ...]  # why it may be skipped (empty: it may not)
    period: ContractPeriod | None  # its contract's, None without one


def _request(ticket: TicketView) -> Request:
    return Request(
        contract=ticket.contract or "",
        kind=ticket.kind,
        received_at=ticket.received_at,
        answered_at=ticket.answered_at,
        id=ticket.id,
    )


def _items(
    session: Session, tickets: Sequence[TicketView], cal: Calendar, now: datetime
) -> list[TicketItem]:
    numbers = sorted({t.contract for t in tickets if t.contract is not None})
    contracts: dict[str, Contract] = (
        {c.number: c for c in repo.contracts(session, numbers)} if numbers else {}
    )
    answered: dict[str, list[Request]] = {}
    for r in ticket_list.late_answer_candidates(session, numbers):
        answered.setdefault(r.contract, []).append(r)
    caused: dict[int | None, CausedExtension] = {}
    periods: dict[str, ContractPeriod] = {}
    today = warsaw(now).date()
    for number, contract in contracts.items():
        own = extensions_caused(contract, cal, answered.get(number, []))
        caused.update(own)
        late = [r for r in answered.get(number, []) if r.id in own]
        period = effective_period(contract, cal, late)
        periods[number] = ContractPeriod(
            number=number,
            paid_until=period.paid_until.isoformat(),
            effective_until=period.effective_until.isoformat(),
            active=period.standing_on(today) is None,
        )
    return [
        TicketItem(
            ticket=t,
            due=ticket_due(_request(t), cal, now),
            extension=caused.get(t.id) if t.contract is not None else None,
            skip=skip_reasons(t.kind, t.findings),
            period=periods.get(t.contract) if t.contract is not None else None,
        )
        for t in tickets
    ]


def ticket_page(
    session: Session, f: TicketFilter, after: Keyset | None, limit: int, now: datetime
) -> tuple[list[TicketItem], Keyset | None]:
    """One page of tickets, newest first, and the cursor of the next page (None: the last).

    With the breached filter a page may end early (SCAN_MAX tickets read) with a cursor."""
    cal = calendar(session)
    kept: list[TicketView] = []
    cursor = after
    scanned = 0
    exhausted = False
    while len(kept) <= limit and scanned < SCAN_MAX:
        want = limit + 1 - len(kept) if f.standing is not TicketStanding.BREACHED else _BATCH
        batch = ticket_list.ticket_batch(session, f, cursor, want, now)
        scanned += len(batch)
        for t in batch:
            if (
                f.standing is TicketStanding.BREACHED
                and not ticket_due(_request(t), cal, now).breached
            ):
                continue
            kept.append(t)
            if len(kept) > limit:
                break
        if len(batch) < want:
            exhausted = True
            break
        cursor = Keyset(batch[-1].received_at, batch[-1].id)
    if len(kept) > limit:
        kept = kept[:limit]
        following: Keyset | None = Keyset(kept[-1].received_at, kept[-1].id)
    elif exhausted:
        following = None
    else:
        following = cursor  # the scan budget ran out: read on from the last ticket read
    return _items(session, kept, cal, now), following


def ticket_item(session: Session, ticket_id: int, now: datetime) -> TicketItem:
    """One ticket with its due time, breach, extension and skip reasons; NotFoundError."""
    [item] = _items(session, [ticket_store.ticket(session, ticket_id)], calendar(session), now)
    return item


@dataclass(frozen=True)
class AnsweredTicket:
    item: TicketItem
    # The contract's report just before and just after the answer (None without a contract).
    before: ContractReport | None
    after: ContractReport | None


def answer_ticket(session: Session, ticket_id: int, user: str, now: datetime) -> AnsweredTicket:
    """Mark the ticket answered now: a late answer extends its contract's paid period at
    once (clause 6), the routing service is told (routing change), the audit log says who,
    when and what changed. TicketConflictError when it was answered before (no second
    extension); NotFoundError when there is no such ticket."""
    current = ticket_store.ticket(session, ticket_id)
    number = current.contract
    before = contract_report(session, number, now) if number else None
    ticket_list.mark_answered(session, ticket_id, now)
    after = contract_report(session, number, now) if number else None
    item = ticket_item(session, ticket_id, now)
    ticket_list.audit_answer(
        session,
        ticket_id,
        user,
        now,
        _audit_detail(item, before, after),
        _audit_values(None, before),
        _audit_values(item.ticket.answered_at, after),
    )
    log.info(
        "ticket answered ticket=%s contract=%s user=%s late_days=%s effective_until=%s",
        ticket_id,
        number or "-",
        user,
        item.extension.days if item.extension else 0,
        after.period.effective_until if after else "-",
    )
    return AnsweredTicket(item, before, after)


def _audit_detail(
    item: TicketItem, before: ContractReport | None, after: ContractReport | None
) -> str:
    """What the answer changed, before -> after (one line)."""
    answered = item.ticket.answered_at
    parts = [f"answered_at: - -> {warsaw(answered).isoformat() if answered else '-'}"]
    parts.append(
        f"due {item.due.due_at.isoformat()}, breached={'yes' if item.due.breached else 'no'}"
    )
    if before is not None and after is not None:
        number = after.contract.number
        parts.append(
            f"contract {number} effective_until: {before.period.effective_until} -> "
            f"{after.period.effective_until}"
        )
        if item.extension is not None:
            parts.append(f"delay +{item.extension.days} day(s) (clause 6)")
        parts.append(
            f"allowance {before.allowance.day}: used {before.allowance.used}/"
            f"{before.allowance.budget} -> {after.allowance.used}/{after.allowance.budget}"
        )
        parts.append(f"active: {before.active} -> {after.active}")
    return "; ".join(parts)


def _audit_values(answered: datetime | None, report: ContractReport | None) -> dict[str, Any]:
    """The ticket's answer time and its contract's standing, as the audit log keeps them."""
    values: dict[str, Any] = {"answered_at": warsaw(answered).isoformat() if answered else None}
    if report is not None:
        values["effective_until"] = report.period.effective_until.isoformat()
        values["active"] = report.active
        values["used"] = f"{report.allowance.used}/{report.allowance.budget}"
    return values


# --- callbacks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackItem:
    callback: CallbackRecord
    breached: bool


def callback_page(
    session: Session, f: CallbackFilter, after: CallbackCursor | None, limit: int, now: datetime
) -> tuple[list[CallbackItem], CallbackCursor | None]:
    """One page of callbacks (open first by due time, then done ones, latest due first)."""
    records, following = callback_review.page(session, f, after, limit, now)
    items = [CallbackItem(r, is_breached(r.due_at, r.done_at, now)) for r in records]
    if f.standing is CallbackStanding.BREACHED:
        items = [i for i in items if i.breached]  # the store narrowed by the same rule
    return items, following


__all__ = [
    "AnsweredTicket",
    "CallbackItem",
    "ContractPeriod",
    "TicketItem",
    "answer_ticket",
    "callback_page",
    "ticket_item",
    "ticket_page",
]
