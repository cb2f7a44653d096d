"""What a screen pop reads from the store: the decisions the routing service logged for the
calls ringing now (one query for a batch of calls)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.store.models import CallRow, contract_list


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
