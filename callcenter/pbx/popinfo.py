"""What a screen pop shows: the decision and the caller's contract at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from callcenter.domain.calendar import warsaw
from callcenter.domain.calls import Call, CallState, PopKind, RingResult
from callcenter.domain.contracts import Extension
from callcenter.services import contract_report
from callcenter.store import call_log
from callcenter.store.pop_queries import logged_decisions, open_callbacks, open_tickets
from callcenter.store.repositories import NotFoundError, closures


def _extension(extension: Extension, closures_by_id: dict[int | None, Any]) -> dict[str, Any]:
    """An extension of the paid period with what explains it: the closure (its days and
    note) or the late-answered ticket; `why` is the core's own sentence."""
    closure = closures_by_id.get(extension.closure_id) if extension.closure_id else None
    return {
        "cause": extension.cause.value,
        "days": extension.days,
        "why": extension.why,
        "ticket_id": extension.ticket_id,
        "closure": None
        if closure is None
        else {"first": closure.first.isoformat(), "last": closure.last.isoformat(),
              "note": closure.note},
    }  # fmt: skip


def contract_summary(session: Session, number: str, now: datetime) -> dict[str, Any]:
    """Customer, plan, installation, paid and effective end with the extensions that explain
    it, allowance used and left today, open tickets and callbacks."""
    report = contract_report(session, number, now)
    c = report.contract
    by_id = (
        {closure.id: closure for closure in closures(session)} if report.period.extensions else {}
    )
    return {
        "number": c.number,
        "customer": c.customer,
        "plan": c.plan.value,
        "installation": {"product": c.product.value, "site_url": c.site_url},
        "paid_until": report.period.paid_until.isoformat(),
        "effective_until": report.period.effective_until.isoformat(),
        "extensions": [_extension(e, by_id) for e in report.period.extensions],
        "active": report.active,
        "allowance": {
            "budget": report.allowance.budget,
            "used": report.allowance.used,
            "left": report.allowance.left,
        },
        "open_tickets": [
            {"id": t.id, "kind": t.kind, "status": t.status, "description": t.description}
            for t in open_tickets(session, number)
        ],
        "callbacks": [
            {
                "id": b.id,
                "number": b.number,
                "calls": b.calls,
                "due": warsaw(b.due_at).isoformat(),
                "last_call": warsaw(b.last_call_at).isoformat(),
            }
            for b in open_callbacks(session, number)
        ],
    }


def pop_payloads(session: Session, calls: Sequence[Call]) -> dict[str, dict[str, Any]]:
    """For each call (by Linkedid): the decision the routing service logged and the
    contract(s) it names. One query for the calls' decisions, one summary per contract."""
    rows = logged_decisions(session, [c.linkedid for c in calls])
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
        numbers = list(row.contracts) if row else []
        if not numbers and single:
            numbers = [single]
        contracts = [s for s in map(summary, numbers) if s is not None]
        payloads[call.linkedid] = {
            "call_id": row.call_id if row else None,
            "number": row.number if row else None,
            "route": (row.route if row else None) or call.route,
            "reason": (row.reason if row else None) or call.reason,
            "contract": contracts[0] if len(contracts) == 1 else None,
            "contracts": contracts,
        }
    return payloads


def live_pops(session: Session, endpoint: str | None) -> list[dict[str, Any]]:
    """The pops a screen opened now must show first, as the listener published them: a
    ringing pop for each call still ringing at `endpoint`, an answered pop (with the same
    contract summary) for the call its operator is talking on. `None`: every endpoint."""
    calls = [call_log.load_call(row) for row in call_log.live_calls(session, endpoint)]
    if not calls:
        return []
    infos = pop_payloads(session, calls)
    pops: list[dict[str, Any]] = []
    for call in calls:
        base = {"linkedid": call.linkedid, "caller": call.caller_raw,
                "caller_name": call.caller_name, **infos.get(call.linkedid, {})}  # fmt: skip
        if call.state is CallState.ANSWERED and call.operator and call.answered:
            if endpoint in (None, call.operator):
                pops.append({**base, "kind": PopKind.ANSWERED.value, "endpoint": call.operator,
                             "at": call.answered.isoformat()})  # fmt: skip
            continue
        for ring in call.rings:
            if ring.result is RingResult.RINGING and endpoint in (None, ring.endpoint):
                pops.append({**base, "kind": PopKind.RINGING.value, "endpoint": ring.endpoint,
                             "at": ring.started.isoformat()})  # fmt: skip
    return pops
