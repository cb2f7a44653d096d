"""`/calls` and `/calls/{id}`: the manager's call log and a call's page, the twins of
`GET /api/calls` and `GET /api/calls/{id}` (the same service calls, laid out in Polish)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callcenter import call_filters, call_log_view
from callcenter.call_filters import FIELDS, FilterError, parse_query
from callcenter.web import words
from callcenter.web.api.calls import LogParams
from callcenter.web.api.tickets import ticket_json
from callcenter.web.deps import SessionDep, SettingsDep, manager
from callcenter.web.review_params import RowId
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

CHOICES = {
    "outcome": [(code, words.OUTCOMES.get(code, code)) for code in call_filters.OUTCOMES],
    "route": [(code, words.ROUTES.get(code, code)) for code in call_filters.ROUTES],
    "reason": [(code, words.REASONS.get(code, code)) for code in call_filters.REASONS],
    "direction": [(code, words.DIRECTIONS[code]) for code in call_filters.DIRECTIONS],
}


@router.get("/calls")
def calls_page(
    request: Request, params: LogParams, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    sent = {k: (v or "").strip() for k, v in params.items() if k in FIELDS and v and v.strip()}
    context: dict[str, Any] = {"sent": sent, "choices": CHOICES, "calls": [], "error": None}
    try:
        query = parse_query(params, settings.region)
    except FilterError as exc:
        context["error"] = {"field": exc.field, "label": LABELS.get(exc.field, exc.field)}
        return page(request, "calls.html", context, 422)
    found = call_log_view.log_page(session, query)
    context["calls"] = [row_view(c) for c in found["calls"]]
    if found["next"]:
        size = {"limit": str(query.limit)} if params.get("limit") else {}
        context["next_url"] = "/calls?" + urlencode({**sent, **size, "cursor": found["next"]})
    context["csv_url"] = "/api/calls.csv" + ("?" + urlencode(sent) if sent else "")
    context["first_url"] = "/calls" + ("?" + urlencode(sent) if sent else "")
    context["paged"] = query.after is not None
    return page(request, "calls.html", context)


@router.get("/calls/{call_id}")
def call_page(request: Request, call_id: RowId, session: SessionDep) -> HTMLResponse:
    found = call_log_view.call_detail(session, call_id, ticket_json)
    if found is None:
        return page(request, "call.html", {"call": None, "call_id": call_id}, 404)
    return page(
        request,
        "call.html",
        {"call": row_view(found), "detail": found, "words": words,
         "steps": [step_view(s) for s in found["timeline"]]},
    )  # fmt: skip


LABELS = {
    "since": "Od",
    "until": "Do",
    "outcome": "Wynik",
    "route": "Trasa",
    "reason": "Powód",
    "contract": "Umowa",
    "operator": "Operator",
    "number": "Numer dzwoniącego",
    "direction": "Kierunek",
    "cursor": "Strona",
    "limit": "Liczba na stronie",
}


def row_view(c: dict[str, Any]) -> dict[str, Any]:
    """One call as a row of the table: its values in Polish words."""
    return {
        "id": c["id"],
        "at": _when(c["arrived"]),
        "caller": c["number"] or c["caller"] or "numer zastrzeżony",
        "caller_name": c["caller_name"],
        "contract": c["contract"] or "–",
        "route": words.ROUTES.get(c["route"] or "", c["route"] or "–"),
        "reason": words.REASONS.get(c["reason"] or "", c["reason"] or ""),
        "outcome": words.OUTCOMES.get(c["outcome"] or "", c["outcome"] or "w toku"),
        "operator": c["operator"] or "–",
        "wait": _seconds(c["wait_seconds"]),
        "talk": _seconds(c["talk_seconds"]),
        "direction": words.DIRECTIONS.get(c["direction"], c["direction"]),
    }


def step_view(step: dict[str, Any]) -> dict[str, str]:
    """A timeline's step: its time and what happened, in Polish words."""
    kind = step["kind"]
    parts: list[str] = []
    if kind == "decided":
        parts.append(words.ROUTES.get(step.get("route", ""), step.get("route", "")))
        if step.get("reason"):
            parts.append(words.REASONS.get(step["reason"], step["reason"]))
    elif kind in ("rung", "callback_attempt"):
        parts.append(f"operator {step.get('operator', '')}")
        if "seconds" in step:
            parts.append(_seconds(step["seconds"]))
        if step.get("result"):
            table = words.RING_RESULTS if kind == "rung" else words.OUTCOMES
            parts.append(table.get(step["result"], step["result"]))
    elif kind == "answered":
        parts.append(f"przez operatora {step.get('operator') or '?'}")
    elif kind in ("abandoned", "timeout", "callback_requested", "left_queue"):
        if "seconds" in step:
            parts.append(f"po {_seconds(step['seconds'])} czekania")
    elif kind == "ended" and step.get("result"):
        parts.append(words.OUTCOMES.get(step["result"], step["result"]))
    elif kind == "ticket":
        parts.append(f"nr {step['ref']}")
        parts.append(words.KINDS.get(step.get("reason", ""), step.get("reason", "")))
        parts.append(words.TICKET_STATUSES.get(step.get("result", ""), step.get("result", "")))
    elif kind == "callback":
        parts.append(f"nr {step['ref']}, termin {_when(step.get('due'))}")
    return {
        "at": _when(step["at"]),
        "kind": kind,
        "what": words.STEPS.get(kind, kind),
        "detail": " · ".join(p for p in parts if p),
        "rule": step.get("rule", ""),
    }


def _when(iso: str | None) -> str:
    return "" if not iso else iso[:19].replace("T", " ")


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    whole = round(value)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"
