"""`/reports`: the service-level report of a date range (manager), the page twin of
`GET /api/reports/service-levels`: the range picker, the tables, and three plots the page's
script (static/reports.js) draws with Chart.js from the figures the page carries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from callcenter import service_levels
from callcenter.domain.report_tallies import ServiceLevels
from callcenter.report_render import service_levels_json
from callcenter.web.deps import manager, now
from callcenter.web.templating import page
from callcenter.web.words import REASONS, ROUTES

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

FIELD_LABELS = {"since": "Od", "until": "Do"}


def charts(report: ServiceLevels) -> dict[str, dict[str, Any]]:
    """What the three plots show, with their Polish labels (the figures are the core's)."""
    days = [d.figures for d in report.days]
    return {
        "hours": {
            "kind": "bar",
            "labels": [f"{h.hour:02d}" for h in report.hours],
            "series": [
                {"label": "przychodzące", "values": [h.offered for h in report.hours]},
                {"label": "odebrane", "values": [h.answered for h in report.hours]},
                {"label": "odrzucone", "values": [h.rejected for h in report.hours]},
            ],
        },
        "service": {
            "kind": "line",
            "percent": True,
            "labels": [d.day.strftime("%d.%m") for d in report.days],
            "series": [
                {"label": "odebrane w 20 s", "values": [_pct(f.service_level_20) for f in days]},
                {"label": "odebrane w 60 s", "values": [_pct(f.service_level_60) for f in days]},
            ],
        },
        "reasons": {
            "kind": "bar",
            "horizontal": True,
            "labels": [REASONS.get(r, r) or "–" for r, _ in report.rejections_by_reason],
            "series": [
                {"label": "odrzucone", "values": [n for _, n in report.rejections_by_reason]}
            ],
        },
    }


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


@router.get("/reports")
def reports_page(
    request: Request, since: str | None = None, until: str | None = None
) -> HTMLResponse:
    moment = now()
    error = None
    try:
        span = service_levels.parse_range(since, until, moment)
    except service_levels.QueryError as exc:
        error = f"{FIELD_LABELS[exc.field]}: {exc.message}"
        span = service_levels.this_month(moment)
    sessions: sessionmaker[Session] = request.app.state.sessions
    report = service_levels.report(sessions, span, moment, service_levels.CONTRACTS_SHOWN)
    data = service_levels_json(report)
    query = urlencode({"since": span.first.isoformat(), "until": span.last.isoformat()})
    return page(
        request,
        "reports.html",
        {
            "error": error,
            "since": since if error else span.first.isoformat(),
            "until": until if error else span.last.isoformat(),
            "report": data,
            "contracts": data["contracts"],
            "contracts_left": report.contracts_total - len(report.contracts),
            "charts": charts(report),
            "routes": ROUTES,
            "reasons": REASONS,
            "csv_url": f"/api/reports/service-levels.csv?{query}",
        },
        status_code=422 if error else 200,
    )
