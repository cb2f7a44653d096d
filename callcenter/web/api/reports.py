"""`GET /api/reports/service-levels` (JSON) and `.../service-levels.csv`: every figure of
the service-level report of a date range (manager). `since`, `until`: YYYY-MM-DD, both days
included, at most a year apart; either missing: this month so far. The JSON lists the
`contracts` (default 100) with the most calls offered, `contracts_total` counting them all;
the CSV lists every contract. A bad date, range or count is 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from callcenter import csv_export, service_levels
from callcenter.domain.report_tallies import ServiceLevels
from callcenter.report_render import CSV_HEADER, csv_rows, service_levels_json
from callcenter.web.deps import manager, now

router = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[Depends(manager)])


def range_of(since: str | None, until: str | None) -> service_levels.DateRange:
    """The query's range, or 422 naming the field."""
    try:
        return service_levels.parse_range(since, until, now())
    except service_levels.QueryError as exc:
        raise _unreadable(exc) from None


def contracts_of(text: str | None) -> int:
    """How many contracts the JSON lists, or 422 naming the field."""
    try:
        return service_levels.parse_contracts(text)
    except service_levels.QueryError as exc:
        raise _unreadable(exc) from None


def _unreadable(exc: service_levels.QueryError) -> HTTPException:
    return HTTPException(422, [{"field": exc.field, "msg": exc.message}])


def report_of(
    request: Request, span: service_levels.DateRange, contracts: int | None = None
) -> ServiceLevels:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return service_levels.report(sessions, span, now(), contracts)


@router.get("/service-levels")
def service_levels_report(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    contracts: str | None = None,
) -> dict[str, Any]:
    span = range_of(since, until)
    return service_levels_json(report_of(request, span, contracts_of(contracts)))


@router.get("/service-levels.csv", response_class=StreamingResponse)
def service_levels_csv(
    request: Request, since: str | None = None, until: str | None = None
) -> StreamingResponse:
    span = range_of(since, until)
    report = report_of(request, span)
    lines: Iterator[str] = csv_export.lines(CSV_HEADER, csv_rows(report))
    name = f"poziom-obslugi-{span.first.isoformat()}-{span.last.isoformat()}.csv"
    return StreamingResponse(
        (line.encode("utf-8") for line in lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
