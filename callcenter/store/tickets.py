"""Tickets as the operator completes them: the request, its findings, its sealed access data.

Rows never leave this module: a ticket comes back as a `TicketView`, which carries whether
the ticket has access data (`has_access_data`) but never the data, sealed or not. The sealed
bytes are read by `sealed_access_data` only, for the audited reveal (desk.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import Finding, FindingCode
from callcenter.secrets import Sealed
from callcenter.store import audit
from callcenter.store.models import CallRow, ContractRow, TicketRow, TicketSecretRow
from callcenter.store.repositories import NotFoundError, changed

DRAFT = "draft"
OPEN = "open"


class TicketConflictError(ValueError):
    """The call's ticket is already completed (a second save would count it twice)."""


@dataclass(frozen=True)
class CompletedTicket:
    """What the operator's save writes onto a ticket (a call's draft or a new one)."""

    contract: str | None
    kind: TicketKind
    site_url: str
    description: str
    other_site: bool
    findings: tuple[Finding, ...]
    operator: str
    call_id: int | None = None


@dataclass(frozen=True)
class TicketView:
    id: int
    status: str
    contract: str | None
    kind: TicketKind
    received_at: datetime
    answered_at: datetime | None
    description: str
    site_url: str
    other_site: bool
    call_id: int | None
    operator: str | None
    created_at: datetime
    findings: tuple[Finding, ...]
    may_skip: bool
    has_access_data: bool


def _findings_json(findings: Sequence[Finding]) -> str:
    return json.dumps(
        [
            {
                "code": f.code.value,
                "clause": f.clause,
                "field": f.field,
                "may_skip": f.may_skip,
                "params": dict(f.params),
            }
            for f in findings
        ],
        ensure_ascii=False,
    )


def _findings(text: str) -> tuple[Finding, ...]:
    return tuple(
        Finding(
            code=FindingCode(item["code"]),
            clause=int(item["clause"]),
            field=str(item["field"]),
            may_skip=bool(item["may_skip"]),
            params=tuple(sorted((str(k), str(v)) for k, v in item["params"].items())),
        )
        for item in json.loads(text or "[]")
    )


def _view(row: TicketRow, has_access_data: bool) -> TicketView:
    return TicketView(
        id=row.id,
        status=row.status,
        contract=row.contract.number if row.contract is not None else None,
        kind=TicketKind(row.kind),
        received_at=row.received_at,
        answered_at=row.answered_at,
        description=row.description,
        site_url=row.site_url,
        other_site=row.other_site,
        call_id=row.call_id,
        operator=row.operator,
        created_at=row.created_at,
        findings=_findings(row.findings),
        may_skip=row.may_skip,
        has_access_data=has_access_data,
    )


_HAS_SECRET = exists().where(TicketSecretRow.ticket_id == TicketRow.id).label("has_secret")


def ticket(session: Session, ticket_id: int) -> TicketView:
    found = session.execute(select(TicketRow, _HAS_SECRET).where(TicketRow.id == ticket_id)).first()
    if found is None:
        raise NotFoundError(f"no ticket #{ticket_id}")
    return _view(found[0], bool(found[1]))


def tickets(
    session: Session,
    contract: str | None = None,
    call_id: int | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[TicketView]:
    """Tickets, newest first; never their access data (only `has_access_data`)."""
    query = select(TicketRow, _HAS_SECRET).order_by(
        TicketRow.received_at.desc(), TicketRow.id.desc()
    )
    if contract is not None:
        query = query.join(ContractRow, ContractRow.id == TicketRow.contract_id).where(
            ContractRow.number == contract
        )
    if call_id is not None:
        query = query.where(TicketRow.call_id == call_id)
    if status is not None:
        query = query.where(TicketRow.status == status)
    return [_view(row, bool(has)) for row, has in session.execute(query.limit(limit))]


def call_ticket(session: Session, call_id: int) -> TicketView | None:
    """The ticket of a call (its draft or the completed one), if it has one."""
    found = tickets(session, call_id=call_id, limit=1)
    return found[0] if found else None


def call_answered_at(session: Session, call_id: int) -> datetime:
    """When the call was answered (or arrived, if not yet answered): a request's receipt."""
    row = session.get(CallRow, call_id)
    if row is None:
        raise NotFoundError(f"no call #{call_id}")
    return row.answered_at or row.arrived_at


def complete(
    session: Session,
    values: CompletedTicket,
    received_at: datetime,
    answered_at: datetime | None,
    now: datetime,
) -> int:
    """Complete the call's draft, or write a new ticket (linked to the call if one is named).

    Notes the contract's routing change (the allowance changes) and writes the audit entry.
    Raises NotFoundError (unknown contract or call) or TicketConflictError (completed before).
    """
    contract_id = None
    if values.contract is not None:
        contract_id = session.scalar(
            select(ContractRow.id).where(ContractRow.number == values.contract)
        )
        if contract_id is None:
            raise NotFoundError(f"no contract {values.contract!r}")
    row = None
    if values.call_id is not None:
        # The call's row locked first: the listener, which updates it in the transaction that
        # opens its draft, waits for this save or is waited for (then its draft is completed).
        locked = session.scalar(
            select(CallRow.id).where(CallRow.id == values.call_id).with_for_update()
        )
        if locked is None:
            raise NotFoundError(f"no call #{values.call_id}")
        row = session.scalar(
            select(TicketRow)
            .where(TicketRow.call_id == values.call_id)
            .with_for_update(of=TicketRow)
        )
        if row is not None and row.status != DRAFT:
            raise TicketConflictError(
                f"call #{values.call_id} already has a completed ticket (#{row.id})"
            )
    if row is None:
        row = TicketRow(call_id=values.call_id, created_at=now, received_at=received_at)
        session.add(row)
    row.status = OPEN
    row.contract_id = contract_id
    row.kind = values.kind.value
    row.received_at = received_at
    row.answered_at = answered_at
    row.description = values.description
    row.site_url = values.site_url
    row.other_site = values.other_site
    row.operator = values.operator
    row.findings = _findings_json(values.findings)
    row.may_skip = any(f.may_skip for f in values.findings)
    session.flush()
    if values.contract is not None:
        changed(session, now, values.contract)
    codes = ",".join(f.code.value for f in values.findings) or "none"
    audit.record(
        session, now, values.operator, "ticket.complete", f"ticket #{row.id}",
        f"{values.kind.value} contract={values.contract or '-'} findings={codes}",
        after={"ticket": row.id, "contract": values.contract, "kind": values.kind.value,
               "received_at": received_at, "answered_at": answered_at,
               "findings": [f.code.value for f in values.findings]},
    )  # fmt: skip
    return row.id


def put_sealed_access_data(session: Session, ticket_id: int, sealed: Sealed, now: datetime) -> None:
    row = session.get(TicketSecretRow, ticket_id)
    if row is None:
        row = TicketSecretRow(ticket_id=ticket_id)
        session.add(row)
    row.key_id = sealed.key_id
    row.sealed = sealed.blob
    row.updated_at = now
    session.flush()


def sealed_access_data(session: Session, ticket_id: int) -> Sealed | None:
    """The ticket's sealed access data (None if it has none); NotFoundError if no ticket."""
    if session.get(TicketRow, ticket_id) is None:
        raise NotFoundError(f"no ticket #{ticket_id}")
    row = session.get(TicketSecretRow, ticket_id)
    return None if row is None else Sealed(key_id=row.key_id, blob=row.sealed)


def record_reveal(session: Session, ticket_id: int, actor: str, now: datetime) -> None:
    """The audit entry of a reveal: who, when, which ticket (never what was shown)."""
    audit.record(session, now, actor, "ticket.reveal", f"ticket #{ticket_id}")
    session.flush()


def calls_with_draft(session: Session, endpoint: str, since: datetime) -> list[CallRow]:
    """Calls answered at `endpoint` that ended since `since` and whose ticket is still the
    listener's draft, oldest first: the ended pops a screen opened now shows again (an ended
    call's pop stays until its ticket is saved or it is dismissed)."""
    query = (
        select(CallRow)
        .join(TicketRow, TicketRow.call_id == CallRow.id)
        .where(
            TicketRow.status == DRAFT,
            CallRow.operator == endpoint,
            CallRow.ended_at.is_not(None),
            CallRow.ended_at >= since,
        )
        .order_by(CallRow.ended_at, CallRow.id)
    )
    return list(session.scalars(query))
