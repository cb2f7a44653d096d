"""The manager's review (JSON): `GET /api/tickets` (due times, breaches, the extension a late
answer caused, why a request may be skipped), `POST /api/tickets/{id}/answer` (one click:
answered now, the contract's period and allowance as they are after it), and
`GET /api/callbacks/all` (every callback with its attempts and the calls that made it).

Handlers parse the query, call the review service (callcenter/review.py), render. The pages
(`/tickets`, `/callbacks`) are built from the same calls and the same JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from callcenter import review
from callcenter.domain.calendar import warsaw
from callcenter.render import allowance_json
from callcenter.services import ContractReport
from callcenter.ticket_messages import finding_json
from callcenter.web.api.tickets import ticket_json
from callcenter.web.deps import CurrentManager, SessionDep, manager, now
from callcenter.web.review_params import RowId, callback_query, ticket_query

router = APIRouter(prefix="/api", tags=["review"], dependencies=[Depends(manager)])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else warsaw(moment).isoformat()


def ticket_item_json(item: review.TicketItem) -> dict[str, Any]:
    """A ticket as the manager reviews it: the ticket (never its access data), its due time
    and breach, the extension its late answer caused, why it may be skipped, its
    contract's period now."""
    ext = item.extension
    period = item.period
    return {
        **ticket_json(item.ticket),
        "state": "answered" if item.due.answered else "open",
        "received": _iso(item.ticket.received_at),
        "answered": _iso(item.ticket.answered_at),
        "due": _iso(item.due.due_at),
        "breached": item.due.breached,
        "extension": None
        if ext is None
        else {
            "days": ext.days,
            "effective_until_before": ext.end_before.isoformat(),
            "effective_until": ext.end_after.isoformat(),
        },
        "skip": [finding_json(f) for f in item.skip],
        "contract_period": None
        if period is None
        else {
            "number": period.number,
            "paid_until": period.paid_until,
            "effective_until": period.effective_until,
            "active": period.active,
        },
    }


def report_json(report: ContractReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "number": report.contract.number,
        "paid_until": report.period.paid_until.isoformat(),
        "effective_until": report.period.effective_until.isoformat(),
        "active": report.active,
        **allowance_json(report),
    }


def callback_item_json(item: review.CallbackItem) -> dict[str, Any]:
    c = item.callback
    return {
        "id": c.id,
        "number": c.caller,
        "contract": c.contract,
        "state": "done" if c.done_at else "open",
        "breached": item.breached,
        "requested": c.requested,
        "calls": c.calls,
        "first_call": _iso(c.first_call_at),
        "last_call": _iso(c.last_call_at),
        "due": _iso(c.due_at),
        "done": _iso(c.done_at),
        "attempts_counted": c.attempts_counted,
        "attempts": [
            {
                "id": a.id,
                "operator": a.operator,
                "started": _iso(a.started_at),
                "ended": _iso(a.ended_at),
                "result": a.result,
                "call_id": a.call_id,
            }
            for a in c.attempts
        ],
        "caused_by": [
            {"call_id": k.id, "arrived": _iso(k.arrived_at), "route": k.route, "outcome": k.outcome}
            for k in c.caused_by
        ],
    }


@router.get("/tickets")
def tickets(request: Request, session: SessionDep) -> dict[str, Any]:
    """Tickets, newest first, filtered (`contract`, `kind`, `state` open|answered|breached,
    `since`/`until` received days), keyset-paged (`after` = the previous page's `next`)."""
    query = ticket_query(request.query_params.multi_items())
    items, following = review.ticket_page(session, query.filter, query.after, query.limit, now())
    return {
        "tickets": [ticket_item_json(i) for i in items],
        "next": following.encode() if following else None,
    }


@router.post("/tickets/{ticket_id}/answer")
def answer(ticket_id: RowId, session: SessionDep, user: CurrentManager) -> dict[str, Any]:
    """Mark the ticket answered now (once: 409 when it was answered before). The answer
    carries the ticket and its contract before and after (effective end, allowance)."""
    done = review.answer_ticket(session, ticket_id, user.username, now())
    return {
        "ticket": ticket_item_json(done.item),
        "contract_before": report_json(done.before),
        "contract": report_json(done.after),
    }


@router.get("/callbacks/all")
def callbacks(request: Request, session: SessionDep) -> dict[str, Any]:
    """Every callback: open ones first by due time, then done ones (latest due first);
    filtered (`state` open|done|breached, `contract`, `since`/`until` first-call days),
    keyset-paged (`after`)."""
    query = callback_query(request.query_params.multi_items())
    items, following = review.callback_page(session, query.filter, query.after, query.limit, now())
    return {
        "callbacks": [callback_item_json(i) for i in items],
        "next": following.encode() if following else None,
    }
