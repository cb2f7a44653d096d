"""Reading and writing the rules' values; rows never leave this module."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from callcenter.domain.allowance import Consolidation
from callcenter.domain.calendar import Closure
from callcenter.domain.contracts import Contract, Request
from callcenter.domain.terms import Billing, Plan, Product, TicketKind
from callcenter.store import audit, report_marks
from callcenter.store.contract_import import ImportResult, Piece, save_contracts
from callcenter.store.models import (
    CallRow,
    ClosureRow,
    ConsolidationRow,
    ContractPhone,
    ContractRow,
    Customer,
    RoutingChangeRow,
    TicketRow,
)

T = TypeVar("T")


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
    """An audit entry without values (kept for older callers: `audit.record` is the one)."""
    audit.record(session, now, actor, action, subject, detail)


# A contract as read: its row's columns with its customer's name; its phones come apart.
_CONTRACT_COLUMNS = (
    ContractRow.id,
    ContractRow.number,
    Customer.name,
    ContractRow.plan,
    ContractRow.billing,
    ContractRow.paid_from,
    ContractRow.paid_until,
    ContractRow.product,
    ContractRow.site_url,
    ContractRow.email,
    ContractRow.accepted_at,
    ContractRow.daily_units,
)


def _contract(row: Any, phones: tuple[str, ...], shared: dict[Any, Any]) -> Contract:
    """Row -> domain (the one mapping). `shared`: equal dates and times are kept once (the
    routing snapshot holds a hundred thousand contracts, most paid over the same days)."""
    return Contract(
        number=row[1],
        customer=row[2],
        plan=Plan(row[3]),
        billing=Billing(row[4]),
        paid_from=shared.setdefault(row[5], row[5]),
        paid_until=shared.setdefault(row[6], row[6]),
        product=Product(row[7]),
        site_url=row[8],
        phones=phones,
        email=row[9],
        accepted_at=shared.setdefault(row[10], row[10]),
        daily_units=row[11],
    )


def _read_contracts(session: Session, where: Any = None) -> list[Contract]:
    """Contracts in number order (all, or those `where` picks), in two Core reads: the
    rows, then their phones (no ORM objects: the routing snapshot reads all of them)."""
    query = (
        select(*_CONTRACT_COLUMNS)
        .join(Customer, Customer.id == ContractRow.customer_id)
        .order_by(ContractRow.number)
    )
    rows = session.execute(query if where is None else query.where(where)).all()
    phones: dict[int, list[str]] = defaultdict(list)
    by_position = select(ContractPhone.contract_id, ContractPhone.e164).order_by(
        ContractPhone.contract_id, ContractPhone.position
    )
    ids = [row[0] for row in rows]
    for chunk in [None] if where is None else _chunks(ids, 1000):
        picked = (
            by_position
            if chunk is None
            else by_position.where(ContractPhone.contract_id.in_(chunk))
        )
        for contract_id, e164 in session.execute(picked):
            phones[contract_id].append(e164)
    shared: dict[Any, Any] = {}
    return [_contract(row, tuple(phones.get(row[0], ())), shared) for row in rows]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- contracts ---------------------------------------------------------------------------


def import_contracts(
    session: Session,
    contracts: Sequence[Contract],
    now: datetime,
    actor: str = "cli",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create new contracts, update changed ones, leave equal ones alone (idempotent);
    one routing change if anything changed. `progress` is told how many contracts each
    step wrote (store/contract_import.py)."""
    return import_pieces(session, [Piece(contracts)], now, actor, progress)


def import_pieces(
    session: Session,
    pieces: Iterable[Piece],
    now: datetime,
    actor: str = "cli",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """import_contracts of contracts given in pieces as they are read (contract_file.py)."""
    result = save_contracts(
        session,
        pieces,
        now,
        actor,
        progress,
        stored=lambda numbers: {c.number: c for c in _by_number(session, numbers)},
    )
    if result.created or result.updated:
        changed(session, now)
        session.flush()
    return result


def contract(session: Session, number: str) -> Contract:
    found = _read_contracts(session, ContractRow.number == number)
    if not found:
        raise NotFoundError(f"no contract {number!r}")
    return found[0]


def contracts(session: Session, numbers: Iterable[str] | None = None) -> list[Contract]:
    """Contracts by number (all of them with None)."""
    if numbers is None:
        return _read_contracts(session)
    wanted = list(numbers)
    return sorted(
        (c for chunk in _chunks(wanted, 1000)
         for c in _read_contracts(session, ContractRow.number.in_(chunk))),
        key=lambda c: c.number,
    )  # fmt: skip


_by_number = contracts  # for import_contracts, whose argument has the name


def contracts_for_phone(session: Session, e164: str) -> list[Contract]:
    owners = select(ContractPhone.contract_id).where(ContractPhone.e164 == e164)
    return _read_contracts(session, ContractRow.id.in_(owners))


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
    audit.record(
        session, now, actor, "closure.add", f"{closure.first}..{closure.last}", closure.note,
        after={"id": row.id, "from": closure.first, "to": closure.last, "note": closure.note},
    )  # fmt: skip
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
    audit.record(
        session, now, actor, "consolidation.grant", grant.contract,
        f"{grant.days} day(s) onto {grant.day}",
        after={"id": row.id, "contract": grant.contract, "day": grant.day, "days": grant.days,
               "note": note},
    )  # fmt: skip
    return Consolidation(contract=grant.contract, day=row.day, days=row.days, id=row.id)


def consolidations(session: Session, numbers: Iterable[str] | None) -> list[Consolidation]:
    """These contracts' consolidations (every contract's with None)."""
    query = (
        select(ConsolidationRow.id, ConsolidationRow.day, ConsolidationRow.days, ContractRow.number)
        .join(ContractRow, ContractRow.id == ConsolidationRow.contract_id)
        .order_by(ConsolidationRow.day)
    )
    if numbers is not None:
        query = query.where(ContractRow.number.in_(list(numbers)))
    return [
        Consolidation(contract=number, day=day, days=days, id=id_)
        for id_, day, days, number in session.execute(query)
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
    audit.record(
        session, now, actor, "ticket.add", ticket.contract, f"#{row.id} {ticket.kind}",
        after={"ticket": row.id, "contract": ticket.contract, "kind": ticket.kind.value,
               "received_at": ticket.received_at, "answered_at": ticket.answered_at,
               "site_url": ticket.site_url, "other_site": ticket.other_site},
    )  # fmt: skip
    return row.id


def requests(session: Session, numbers: Iterable[str] | None) -> list[Request]:
    """Every completed ticket of these contracts (of all with None), as the rules see them
    (drafts do not count)."""
    query = (
        select(
            TicketRow.id,
            TicketRow.kind,
            TicketRow.received_at,
            TicketRow.answered_at,
            ContractRow.number,
        )
        .join(ContractRow, ContractRow.id == TicketRow.contract_id)
        .where(TicketRow.status != "draft")
        .order_by(TicketRow.received_at, TicketRow.id)
    )
    if numbers is not None:
        query = query.where(ContractRow.number.in_(list(numbers)))
    return [
        Request(
            contract=number,
            kind=TicketKind(kind),
            received_at=received_at,
            answered_at=answered_at,
            id=id_,
        )
        for id_, kind, received_at, answered_at, number in session.execute(query)
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
    rule: str = ""  # the routing rule that decided (domain.routing.Decision.rule)
    why: str = ""


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
        "rule": call.rule,
        "why": call.why,
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
        rule=row.rule,
        why=row.why,
    )
