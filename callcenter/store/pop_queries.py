"""What a screen pop reads from the store: the decisions the routing service logged for the
calls ringing now (one query for a batch of calls), and a contract's open tickets and
callbacks. The contract's period and allowance come from services.contract_report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.store.models import CallbackRow, CallRow, ContractRow, TicketRow, contract_list


@dataclass(frozen=True)
class LoggedDecision:
    call_id: int
    linkedid: str
    route: str | None
    reason: str | None
    contract: str | None
    contracts: tuple[str, ...]
    number: str | None  # the caller, E.164


def logged_decisions(session: Session, linkedids: Iterable[str]) -> dict[str, LoggedDecision]:
    """The logged decision of each of these calls that has a log entry (by Linkedid)."""
    found = session.execute(
        select(
            CallRow.id, CallRow.linkedid, CallRow.route, CallRow.reason, CallRow.contract,
            CallRow.contracts, CallRow.caller_e164,
        ).where(CallRow.linkedid.in_(list(linkedids)))
    )  # fmt: skip
    return {
        row.linkedid: LoggedDecision(
            call_id=row.id,
            linkedid=row.linkedid,
            route=row.route,
            reason=row.reason,
            contract=row.contract,
            contracts=contract_list(row.contracts),
            number=row.caller_e164,
        )
        for row in found
    }


@dataclass(frozen=True)
class OpenTicket:
    id: int
    kind: str
    status: str
    description: str


def open_tickets(session: Session, number: str) -> list[OpenTicket]:
    """A contract's tickets not answered yet, oldest first."""
    query = (
        select(TicketRow.id, TicketRow.kind, TicketRow.status, TicketRow.description)
        .join(ContractRow, ContractRow.id == TicketRow.contract_id)
        .where(ContractRow.number == number, TicketRow.answered_at.is_(None))
        .order_by(TicketRow.received_at)
    )
    return [OpenTicket(r.id, r.kind, r.status, r.description) for r in session.execute(query)]


@dataclass(frozen=True)
class CallbackDue:
    id: int
    number: str  # the caller to call back, E.164
    calls: int
    due_at: datetime
    last_call_at: datetime


def open_callbacks(session: Session, number: str) -> list[CallbackDue]:
    """The callbacks still to return for a contract, earliest due first."""
    query = (
        select(CallbackRow)
        .where(CallbackRow.contract == number, CallbackRow.done_at.is_(None))
        .order_by(CallbackRow.due_at, CallbackRow.id)
    )
    return [
        CallbackDue(b.id, b.caller_e164, b.calls, b.due_at, b.last_call_at)
        for b in session.scalars(query)
    ]
