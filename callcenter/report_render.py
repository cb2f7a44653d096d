"""The service-level report as JSON (`GET /api/reports/service-levels`) and as CSV rows:
one shape, the figures' names as the core names them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from callcenter.domain.report_tallies import ServiceLevels
from callcenter.domain.reports import Figures, OperatorFigures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "offered": f.offered,
        "answered": f.answered,
        "abandoned": f.abandoned,
        "unanswered": f.unanswered,
        "rejected": f.rejected,
        "failed": f.failed,
        "queued": f.queued,
        "answered_within_20": f.answered_within_20,
        "answered_within_60": f.answered_within_60,
        "service_level_20": _round(f.service_level_20),
        "service_level_60": _round(f.service_level_60),
        "wait_avg": _round(f.wait_avg),
        "wait_p90": _round(f.wait_p90),
        "talk_avg": _round(f.talk_avg),
        "callbacks_made": f.callbacks_made,
        "callbacks_in_time": f.callbacks_in_time,
        "rejected_by": [
            {"route": route, "reason": reason, "calls": n} for route, reason, n in f.rejected_by
        ]
        if f.rejected_by
        else [],
    }


def operator_json(o: OperatorFigures) -> dict[str, Any]:
    return {
        "operator": o.operator,
        "rung": o.rung,
        "answered": o.answered,
        "missed_rings": o.missed_rings,
        "answered_within_20": o.answered_within_20,
        "ring_avg": _round(o.ring_avg),
        "talk_avg": _round(o.talk_avg),
        "talk_total": _round(o.talk_total),
    }


def service_levels_json(r: ServiceLevels) -> dict[str, Any]:
    return {
        "since": r.first.isoformat(),
        "until": r.last.isoformat(),
        "total": figures_json(r.total),
        "days": [
            {"day": d.day.isoformat(), "working_day": d.working_day, **figures_json(d.figures)}
            for d in r.days
        ],
        "operators": [operator_json(o) for o in r.operators],
        "contracts": [{"contract": c.contract, **figures_json(c.figures)} for c in r.contracts],
        "contracts_total": r.contracts_total,
        "hours": [
            {"hour": h.hour, "offered": h.offered, "answered": h.answered, "rejected": h.rejected}
            for h in r.hours
        ],
        "rejections": [
            {"route": route, "reason": reason, "calls": n} for route, reason, n in r.rejections
        ],
    }


FIGURES = (
    "offered", "answered", "abandoned", "unanswered", "rejected", "failed", "queued",
    "answered_within_20", "answered_within_60", "service_level_20", "service_level_60",
    "wait_avg", "wait_p90", "talk_avg", "callbacks_made", "callbacks_in_time",
)  # fmt: skip
OPERATOR_FIGURES = ("rung", "missed_rings", "ring_avg", "talk_total")
CSV_HEADER = ("section", "key", "working_day", *FIGURES, *OPERATOR_FIGURES, "route", "reason")


def csv_rows(r: ServiceLevels) -> Iterator[list[object]]:
    """The report as CSV rows under CSV_HEADER: a `section` (total, day, operator, contract,
    hour, rejection) and its `key`, then the figures that section has (others empty)."""
    data = service_levels_json(r)
    blank = {name: None for name in CSV_HEADER}

    def row(section: str, key: object, values: dict[str, Any]) -> list[object]:
        cells = {**blank, **{k: v for k, v in values.items() if k in blank}}
        cells.update(section=section, key=key)
        return [cells[name] for name in CSV_HEADER]

    yield row("total", f"{data['since']}..{data['until']}", data["total"])
    for d in data["days"]:
        yield row("day", d["day"], d)
    for o in data["operators"]:
        yield row("operator", o["operator"], o)
    for c in data["contracts"]:
        yield row("contract", c["contract"], c)
    for h in data["hours"]:
        yield row("hour", h["hour"], h)
    for j in data["rejections"]:
        yield row("rejection", f"{j['route']}/{j['reason']}", {**j, "rejected": j["calls"]})
