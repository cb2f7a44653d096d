"""How the CLI shows things: rich text for people, plain dicts for --json."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from callcenter.contract_file import CheckedFile
from callcenter.display import plain, visible
from callcenter.domain.allowance import Allowance, Consolidation
from callcenter.domain.calendar import Closure, warsaw
from callcenter.domain.contracts import Contract
from callcenter.domain.routing import Decision
from callcenter.services import ContractReport
from callcenter.store import repositories as repo
from callcenter.store.audit import Entry as AuditEntry
from callcenter.store.contract_import import ImportResult
from callcenter.store.models import CallbackRow, CallRow
from callcenter.store.users import User

_PROGRESS_FROM = 2000  # lines; smaller files import before a bar would be seen


def import_with_progress(
    session: Session, checked: CheckedFile, now: datetime, console: Console
) -> ImportResult:
    """Import a file's contracts as they are checked (contract_file.py) inside the caller's
    transaction, with a progress bar (in the file's lines) on a terminal."""
    show = console.is_terminal and checked.lines > _PROGRESS_FROM
    with Progress(console=console, transient=True, disable=not show) as progress:
        task = progress.add_task("importing contracts", total=checked.lines)
        return repo.import_pieces(
            session, checked.chunks(lambda line: progress.update(task, completed=line)), now
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else warsaw(moment).isoformat()


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "route": decision.route.value,
        "reason": decision.reason.value,
        "number": decision.number,
        "caller": decision.caller.raw,
        "contract": decision.contract,
        "contracts": list(decision.contracts),
        "next_open": _iso(decision.next_open),
        "covered": decision.covered,
        "rule": decision.rule,
        "why": decision.why,
    }


Part = str | tuple[str, str]


def _say(console: Console, *parts: Part) -> None:
    """One line of plain text: every part as written (no markup; controls escaped); a
    `(text, style)` part is styled."""
    line = Text(end="\n")
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(visible(text), style=style)
    console.print(line)


def decision_text(decision: Decision, now: datetime, console: Console) -> None:
    caller = decision.number or repr(decision.caller.raw)
    _say(console, "caller ", (caller, "bold"), f" at {warsaw(now):%Y-%m-%d %H:%M %Z}")
    _say(
        console,
        "route: ",
        (decision.route.value, "bold"),
        f" (reason: {decision.reason}; decided by rule '{decision.rule}')",
    )
    _say(console, "why: ", decision.why)
    if decision.contract:
        _say(console, "contract: ", decision.contract)
    elif decision.contracts:
        _say(console, "contracts: ", ", ".join(decision.contracts))
    if decision.next_open:
        _say(console, f"next opening: {_iso(decision.next_open)}")
    if decision.covered and decision.route.value == "closed":
        _say(console, "a covered customer: this missed call becomes a callback")


def contract_summary(contract: Contract) -> dict[str, Any]:
    return {
        "number": contract.number,
        "customer": contract.customer,
        "plan": contract.plan.value,
        "billing": contract.billing.value,
        "paid_from": contract.paid_from.isoformat(),
        "paid_until": contract.paid_until.isoformat(),
        "product": contract.product.value,
        "site_url": contract.site_url,
        "phones": list(contract.phones),
        "email": contract.email,
        "accepted_at": _iso(contract.accepted_at),
        "daily_units": contract.units_per_day,
    }


def allowance_json(report: ContractReport) -> dict[str, Any]:
    a = report.allowance
    return {
        "allowance": {
            "day": a.day.isoformat(),
            "budget": a.budget,
            "used": a.used,
            "left": a.left,
            "exhausted": a.exhausted,
            "reason": a.reason.value if a.reason else None,
        }
    }


def contract_json(report: ContractReport) -> dict[str, Any]:
    return {
        **contract_summary(report.contract),
        "installation": {
            "product": report.contract.product.value,
            "site_url": report.contract.site_url,
        },
        "effective_until": report.period.effective_until.isoformat(),
        "active": report.active,
        "extensions": [
            {
                "cause": e.cause.value,
                "days": e.days,
                "why": e.why,
                "closure": e.closure_id,
                "ticket": e.ticket_id,
            }
            for e in report.period.extensions
        ],
        **allowance_json(report),
    }


def contract_text(report: ContractReport, console: Console) -> None:
    c = report.contract
    _say(console, (c.number, "bold"), "  ", c.customer)
    _say(console, f"plan: {c.plan} ({c.billing})  accepted: {_iso(c.accepted_at)}")
    _say(console, f"installation: {c.product} at ", c.site_url)
    _say(console, "phones: ", ", ".join(c.phones) or "-", "  e-mail: ", c.email)
    _say(console, f"paid: {c.paid_from} to {c.paid_until}")
    state = "active" if report.active else "not active"
    _say(console, "effective until: ", (str(report.period.effective_until), "bold"), f" ({state})")
    for e in report.period.extensions:
        _say(console, f"  +{e.days} day(s): ", e.why)
    a = report.allowance
    _say(console, f"today ({a.day}): {a.used} of {a.budget} unit(s) used, {a.left} left")


def _table(*columns: str) -> Table:
    """A table whose cells fold rather than cut a long value short ("…")."""
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def contracts_table(contracts: Sequence[Contract], console: Console) -> None:
    table = _table("number", "customer", "plan", "paid until", "product", "phones")
    for c in contracts:
        table.add_row(
            plain(c.number),
            plain(c.customer),
            c.plan.value,
            str(c.paid_until),
            c.product.value,
            plain(", ".join(c.phones)),
        )
    console.print(table)


def closures_table(closures: Sequence[Closure], console: Console) -> None:
    table = _table("id", "from", "to", "note")
    for c in closures:
        table.add_row(str(c.id), str(c.first), str(c.last), plain(c.note))
    console.print(table)


def call_json(row: CallRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "linkedid": row.linkedid,
        "caller": row.caller_raw,
        "caller_name": row.caller_name,
        "number": row.caller_e164,
        "dialled": row.dialled,
        "route": row.route,
        "reason": row.reason,
        "contract": row.contract,
        "contracts": list(row.contract_numbers),
        "covered": row.covered,
        "state": row.state,
        "outcome": row.outcome,
        "arrived": _iso(row.arrived_at),
        "queued": _iso(row.queued_at),
        "answered": _iso(row.answered_at),
        "ended": _iso(row.ended_at),
        "wait_seconds": row.wait_s,
        "talk_seconds": row.talk_s,
        "operator": row.operator,
        "rings": [
            {
                "operator": r.endpoint,
                "started": _iso(r.started_at),
                "seconds": r.seconds,
                "result": r.result,
            }
            for r in row.rings
        ],
        "hangup_cause": row.hangup_cause,
        "callback": row.callback_id,
        "direction": row.direction,
        "decision_ms": row.decision_ms,
    }


def calls_table(calls: Sequence[dict[str, Any]], console: Console) -> None:
    table = _table(
        "id", "arrived", "caller", "route", "reason", "outcome", "operator", "wait", "talk"
    )
    for c in calls:
        table.add_row(
            str(c["id"]),
            (c["arrived"] or "")[:19],
            plain(c["number"] or c["caller"]),
            plain(c["route"] or ""),
            plain(c["reason"] or ""),
            plain(c["outcome"] or c["state"]),
            plain(c["operator"] or ""),
            _secs(c["wait_seconds"]),
            _secs(c["talk_seconds"]),
        )
    console.print(table)


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}s"


def call_text(c: dict[str, Any], console: Console) -> None:
    _say(console, (f"call {c['id']}", "bold"), " (Linkedid ", c["linkedid"], ")")
    _say(console, "caller: ", c["caller_name"] or "", " <", c["caller"], "> ", c["number"] or "")
    _say(
        console,
        "decision: ", c["route"] or "", " (", c["reason"] or "", ") contract: ",
        c["contract"] or "-",
    )  # fmt: skip
    _say(
        console,
        f"arrived {c['arrived']}  queued {c['queued']}  answered {c['answered']}  "
        f"ended {c['ended']}",
    )
    _say(
        console,
        "outcome: ", (c["outcome"] or c["state"], "bold"), "  operator: ",
        c["operator"] or "-",
        f"  wait {_secs(c['wait_seconds'])}  talk {_secs(c['talk_seconds'])}",
    )  # fmt: skip
    for r in c["rings"]:
        _say(
            console,
            "  rang ", r["operator"], f" at {r['started']} for {_secs(r['seconds'])}: ",
            r["result"] or "",
        )  # fmt: skip
    if c["callback"]:
        _say(console, f"callback #{c['callback']}")


def callback_json(row: CallbackRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.caller_e164,
        "contract": row.contract,
        "calls": row.calls,
        "first_call": _iso(row.first_call_at),
        "last_call": _iso(row.last_call_at),
        "due": _iso(row.due_at),
        "done": _iso(row.done_at),
        "requested": row.requested,
        "attempts": row.attempts,
    }


def callbacks_table(items: Sequence[dict[str, Any]], console: Console) -> None:
    table = _table("id", "due", "number", "contract", "calls", "last call")
    for c in items:
        table.add_row(
            str(c["id"]),
            c["due"][:16],
            plain(c["number"]),
            plain(c["contract"] or ""),
            str(c["calls"]),
            c["last_call"][:16],
        )
    console.print(table)


def user_json(user: User) -> dict[str, Any]:
    """An account as the CLI and the API show it (never its password hash)."""
    return {
        "username": user.username,
        "role": user.role.value,
        "endpoint": user.endpoint,
        "created_at": _iso(user.created_at),
        "disabled_at": _iso(user.disabled_at),
    }


def usage_json(days: Sequence[Allowance]) -> list[dict[str, Any]]:
    """A contract's allowance day by day (admin.contract_page), newest first."""
    return [
        {
            "day": a.day.isoformat(),
            "budget": a.budget,
            "used": a.used,
            "left": a.left,
            "reason": a.reason.value if a.reason else None,
            "consolidated_onto": a.consolidated_onto.isoformat() if a.consolidated_onto else None,
        }
        for a in days
    ]


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
        "before": entry.before,
        "after": entry.after,
    }


def closure_json(closure: Closure) -> dict[str, Any]:
    return {
        "id": closure.id,
        "from": closure.first.isoformat(),
        "to": closure.last.isoformat(),
        "note": closure.note,
    }


def consolidation_json(grant: Consolidation) -> dict[str, Any]:
    return {
        "id": grant.id,
        "contract": grant.contract,
        "day": grant.day.isoformat(),
        "days": grant.days,
    }
