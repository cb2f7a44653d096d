"""What a screen pop shows: the decision and the caller's contract at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.domain.calls import Call
from callcenter.services import contract_report
from callcenter.store.models import CallRow, ContractRow, TicketRow
from callcenter.store.repositories import NotFoundError


def contract_summary(session: Session, number: str, now: datetime) -> dict[str, Any]:
    """Customer, plan, installation, effective end, allowance left today, open tickets."""
    report = contract_report(session, number, now)
    c = report.contract
    open_tickets = session.scalars(
        select(TicketRow)
        .join(ContractRow, ContractRow.id == TicketRow.contract_id)
        .where(ContractRow.number == number, TicketRow.answered_at.is_(None))
        .order_by(TicketRow.received_at)
    )
    return {
        "number": c.number,
        "customer": c.customer,
        "plan": c.plan.value,
        "installation": {"product": c.product.value, "site_url": c.site_url},
        "effective_until": report.period.effective_until.isoformat(),
        "allowance": {
            "budget": report.allowance.budget,
            "used": report.allowance.used,
            "left": report.allowance.left,
        },
        "open_tickets": [
            {"id": t.id, "kind": t.kind, "status": t.status, "description": t.description}
            for t in open_tickets
        ],
    }


def pop_payloads(session: Session, calls: Sequence[Call]) -> dict[str, dict[str, Any]]:
    """For each call (by Linkedid): the decision the routing service logged and the
    contract(s) it names. One query for the calls' decisions, one summary per contract."""
    found = session.execute(
        select(
            CallRow.id, CallRow.linkedid, CallRow.route, CallRow.reason, CallRow.contract,
            CallRow.contracts, CallRow.caller_e164,
        ).where(CallRow.linkedid.in_([c.linkedid for c in calls]))
    )  # fmt: skip
    rows = {row.linkedid: row for row in found}
    now = datetime.now(UTC)
    summaries: dict[str, dict[str, Any] | None] = {}

    def summary(number: str) -> dict[str, Any] | None:
        if number not in summaries:
            try:
                summaries[number] = contract_summary(session, number, now)
            except NotFoundError:
                summaries[number] = None
        return summaries[number]

    payloads = {}
    for call in calls:
        row = rows.get(call.linkedid)
        single = (row.contract if row else None) or call.contract
        numbers = [n for n in (row.contracts.split(",") if row else []) if n]
        if not numbers and single:
            numbers = [single]
        contracts = [s for s in map(summary, numbers) if s is not None]
        payloads[call.linkedid] = {
            "call_id": row.id if row else None,
            "number": row.caller_e164 if row else None,
            "route": (row.route if row else None) or call.route,
            "reason": (row.reason if row else None) or call.reason,
            "contract": contracts[0] if len(contracts) == 1 else None,
            "contracts": contracts,
        }
    return payloads
