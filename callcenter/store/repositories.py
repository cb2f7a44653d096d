"""Reading and writing the rules' values; rows never leave this module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import Closure
from callcenter.domain.contracts import Contract, Request
from callcenter.domain.terms import Billing, Plan, Product, TicketKind
from callcenter.store import report_marks
from callcenter.store.models import (
    AuditRow,
    CallRow,
    ClosureRow,
    ConsolidationRow,
    ContractPhone,
    ContractRow,
    Customer,
    RoutingChangeRow,
    TicketRow,
)


class NotFoundError(LookupError):
    pass


def changed(session: Session, now: datetime, contract: str | None = None) -> None:
    """Note a change to the routing inputs (a contract's, or all with None)."""
    session.add(RoutingChangeRow(contract=contract, at=now))


def changes_since(session: Session, cursor: int) -> list[tuple[int, str | None]]:
    rows = session.execute(
        select(RoutingChangeRow.id, RoutingChangeRow.contract)
        .where(RoutingChangeRow.id > cursor)
        .order_by(RoutingChangeRow.id)
    )
    return [(r.id, r.contract) for r in rows]


def last_change(session: Session) -> int:
    return session.scalar(select(func.max(RoutingChangeRow.id))) or 0


def _audit(
    session: Session, now: datetime, actor: str, action: str, subject: str, detail: str = ""
) -> None:
    session.add(AuditRow(at=now, actor=actor, action=action, subject=subject, detail=detail))


def _contract(row: ContractRow) -> Contract:
    return Contract(
        number=row.number,
        customer=row.customer.name,
        plan=Plan(row.plan),
        billing=Billing(row.billing),
        paid_from=row.paid_from,
        paid_until=row.paid_until,
        product=Product(row.product),
        site_url=row.site_url,
        phones=tuple(p.e164 for p in row.phones),
        email=row.email,
        accepted_at=row.accepted_at,
        daily_units=row.daily_units,
    )


# --- contracts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def import_contracts(
    session: Session, contracts: Sequence[Contract], now: datetime, actor: str = "cli"
) -> ImportResult:
    """Create new contracts, update changed ones, leave equal ones alone (idempotent)."""
    numbers = [c.number for c in contracts]
    existing: dict[str, ContractRow] = {}
    for chunk in _chunks(numbers, 500):
        rows = session.scalars(select(ContractRow).where(ContractRow.number.in_(chunk)))
        existing.update({row.number: row for row in rows})
    customers = {c.name: c for c in session.scalars(select(Customer))}
    created = updated = 0
    for contract in contracts:
        row = existing.get(contract.number)
        if row is not None and _contract(row) == contract:
            continue
        customer = customers.get(contract.customer)
        if customer is None:
            customer = Customer(name=contract.customer)
            session.add(customer)
            customers[contract.customer] = customer
        if row is None:
            row = ContractRow(number=contract.number)
            session.add(row)
            created += 1
            action = "contract.create"
        else:
            updated += 1
            action = "contract.update"
        _fill(row, contract, customer, now)
        _audit(session, now, actor, action, contract.number)
    if created or updated:
        changed(session, now)
    session.flush()
    return ImportResult(
        created=created, updated=updated, unchanged=len(contracts) - created - updated
    )


def _fill(row: ContractRow, contract: Contract, customer: Customer, now: datetime) -> None:
    row.customer = customer
    row.plan = contract.plan.value
    row.billing = contract.billing.value
    row.paid_from = contract.paid_from
    row.paid_until = contract.paid_until
    row.product = contract.product.value
    row.site_url = contract.site_url
    row.email = contract.email
    row.accepted_at = contract.accepted_at
    row.accepted_via = "order"
    row.daily_units = contract.daily_units
    row.updated_at = now
    if [p.e164 for p in row.phones] != list(contract.phones):
        kept = {p.e164: p for p in row.phones}
        row.phones = [kept.get(e164) or ContractPhone(e164=e164) for e164 in contract.phones]
        for position, phone in enumerate(row.phones):
            phone.position = position


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def contract(session: Session, number: str) -> Contract:
    row = session.scalar(select(ContractRow).where(ContractRow.number == number))
    if row is None:
        raise NotFoundError(f"no contract {number!r}")
    return _contract(row)


def contracts(session: Session, numbers: Iterable[str] | None = None) -> list[Contract]:
    """Contracts by number (all of them with None)."""
    query = select(ContractRow).order_by(ContractRow.number)
    if numbers is not None:
        query = query.where(ContractRow.number.in_(list(numbers)))
    return [_contract(row) for row in session.scalars(query)]


def contracts_for_phone(session: Session, e164: str) -> list[Contract]:
    rows = session.scalars(
        select(ContractRow)
        .join(ContractPhone, ContractPhone.contract_id == ContractRow.id)
        .where(ContractPhone.e164 == e164)
        .order_by(ContractRow.number)
    )
    return [_contract(row) for row in rows]


def _contract_id(session: Session, number: str) -> int:
    found = session.scalar(select(ContractRow.id).where(ContractRow.number == number))
    if found is None:
        raise NotFoundError(f"no contract {number!r}")
    return found


# --- closures ----------------------------------------------------------------------------


def add_closure(session: Session, closure: Closure, now: datetime, actor: str = "cli") -> Closure:
    row = ClosureRow(first_day=closure.first, last_day=closure.last, note=closure.note)
    row.created_at = now
    session.add(row)
    session.flush()
    changed(session, now)
    _audit(session, now, actor, "closure.add", f"{closure.first}..{closure.last}", closure.note)
    return Closure(first=row.first_day, last=row.last_day, note=row.note, id=row.id)


def closures(session: Session) -> tuple[Closure, ...]:
    rows = session.scalars(select(ClosureRow).order_by(ClosureRow.first_day, ClosureRow.id))
    return tuple(Closure(first=r.first_day, last=r.last_day, note=r.note, id=r.id) for r in rows)


# --- consolidations ----------------------------------------------------------------------


def add_consolidation(
    session: Session, grant: Consolidation, now: datetime, note: str = "", actor: str = "cli"
) -> Consolidation:
    row = ConsolidationRow(
        contract_id=_contract_id(session, grant.contract),
        day=grant.day,
        days=grant.days,
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    changed(session, now, grant.contract)
    _audit(
        session,
        now,
        actor,
        "consolidation.grant",
        grant.contract,
        f"{grant.days} day(s) onto {grant.day}",
    )
    return Consolidation(contract=grant.contract, day=row.day, days=row.days, id=row.id)


def consolidations(session: Session, numbers: Iterable[str] | None) -> list[Consolidation]:
    """These contracts' consolidations (every contract's with None)."""
    query = (
        select(ConsolidationRow)
        .join(ContractRow, ContractRow.id == ConsolidationRow.contract_id)
        .order_by(ConsolidationRow.day)
    )
    if numbers is not None:
        query = query.where(ContractRow.number.in_(list(numbers)))
    rows = session.scalars(query)
    return [
        Consolidation(contract=r.contract.number, day=r.day, days=r.days, id=r.id) for r in rows
    ]


# --- tickets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTicket:
    contract: str
    kind: TicketKind
    received_at: datetime
    answered_at: datetime | None
    description: str = ""
    site_url: str = ""
    other_site: bool = False


def add_ticket(session: Session, ticket: NewTicket, now: datetime, actor: str = "cli") -> int:
    row = TicketRow(
        contract_id=_contract_id(session, ticket.contract),
        kind=ticket.kind.value,
        received_at=ticket.received_at,
        answered_at=ticket.answered_at,
        description=ticket.description,
        site_url=ticket.site_url,
        other_site=ticket.other_site,
        created_at=now,
    )
    session.add(row)
    session.flush()
    changed(session, now, ticket.contract)
    _audit(session, now, actor, "ticket.add", ticket.contract, f"#{row.id} {ticket.kind}")
    return row.id


def requests(session: Session, numbers: Iterable[str] | None) -> list[Request]:
    """Every completed ticket of these contracts (of all with None), as the rules see them
    (drafts do not count)."""
    query = (
        select(TicketRow, ContractRow.number)
        .join(ContractRow, ContractRow.id == TicketRow.contract_id)
        .where(TicketRow.status != "draft")
        .order_by(TicketRow.received_at, TicketRow.id)
    )
    if numbers is not None:
        query = query.where(ContractRow.number.in_(list(numbers)))
    rows = session.execute(query)
    return [
        Request(
            contract=number,
            kind=TicketKind(r.kind),
            received_at=r.received_at,
            answered_at=r.answered_at,
            id=r.id,
        )
        for r, number in rows
    ]


# --- calls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallDecision:
    """What the routing service decided for one call, for the call log."""

    linkedid: str
    caller_raw: str
    caller_name: str
    caller_e164: str | None
    dialled: str
    route: str
    reason: str
    contract: str | None
    contracts: tuple[str, ...]
    covered: bool
    arrived_at: datetime
    decided_at: datetime
    decision_ms: float


def _decision_values(call: CallDecision) -> dict[str, object]:
    return {
        "caller_raw": call.caller_raw,
        "caller_name": call.caller_name,
        "caller_e164": call.caller_e164,
        "dialled": call.dialled,
        "route": call.route,
        "reason": call.reason,
        "contract": call.contract,
        "contracts": list(call.contracts),
        "covered": call.covered,
        "arrived_at": call.arrived_at,
        "decided_at": call.decided_at,
        "decision_ms": call.decision_ms,
    }


def record_decisions(session: Session, calls: Sequence[CallDecision]) -> None:
    """Insert or complete the calls' log entries (keyed by Linkedid); idempotent.

    One read of the rows that exist, one insert and one update statement for the batch
    (Core statements: the routing service writes these while it answers other calls).
    If the listener wrote a row first, the decision completes it; if the listener saw the
    dialplan fail open, the log keeps `fail_open` and the route the caller went through."""
    latest = {call.linkedid: call for call in calls}  # a repeated request: the last one
    if not latest:
        return
    existing = {
        row.linkedid: row
        for row in session.execute(
            select(CallRow.linkedid, CallRow.route, CallRow.reason, CallRow.arrived_at).where(
                CallRow.linkedid.in_(list(latest))
            )
        )
    }
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for linkedid, call in latest.items():
        row = existing.get(linkedid)
        if row is None:
            inserts.append({"linkedid": linkedid, **_decision_values(call)})
            continue
        kept = call
        if row.reason == "fail_open":
            kept = replace(call, route=row.route or call.route, reason="fail_open")
        values = _decision_values(kept)
        values["arrived_at"] = min(row.arrived_at, call.arrived_at)
        updates.append({"key": linkedid, **values})
    connection = session.connection()
    report_marks.mark(
        session, [c.arrived_at for c in latest.values()] + [r.arrived_at for r in existing.values()]
    )
    if inserts:
        connection.execute(insert(CallRow), inserts)
    if updates:
        connection.execute(
            update(CallRow)
            .where(CallRow.linkedid == bindparam("key"))
            .values({name: bindparam(name) for name in updates[0] if name != "key"}),
            updates,
        )


def call_by_linkedid(session: Session, linkedid: str) -> CallDecision | None:
    row = session.scalar(select(CallRow).where(CallRow.linkedid == linkedid))
    if row is None or row.route is None or row.reason is None or row.decided_at is None:
        return None
    return CallDecision(
        linkedid=row.linkedid,
        caller_raw=row.caller_raw,
        caller_name=row.caller_name,
        caller_e164=row.caller_e164,
        dialled=row.dialled,
        route=row.route,
        reason=row.reason,
        contract=row.contract,
        contracts=row.contract_numbers,
        covered=row.covered,
        arrived_at=row.arrived_at,
        decided_at=row.decided_at,
        decision_ms=row.decision_ms or 0.0,
    )
