"""`callcenter reports`: the service-level report of a date range (the same figures as
`GET /api/reports/service-levels`), and rebuilding its per-day tallies from the call log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from callcenter import service_levels
from callcenter.cli_common import JsonFlag, UserError, _engine, _now, _print_json
from callcenter.report_render import service_levels_json
from callcenter.store import db, report_tallies

reports_app = typer.Typer(help="Service-level reports.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


@reports_app.command("rebuild")
def reports_rebuild() -> None:
    """Build every day's tallies again from the call log (after loading calls in bulk;
    a report builds the days it needs by itself otherwise)."""
    engine = _engine()
    try:
        days = report_tallies.rebuild(db.sessions(engine), _now())
    finally:
        engine.dispose()
    out.print(f"report tallies rebuilt for {days} days")


@reports_app.command("service-levels")
def reports_service_levels(
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (included).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every figure of the range (default: this month so far)."""
    now = _now()
    try:
        span = service_levels.parse_range(since, until, now)
    except service_levels.QueryError as exc:
        raise UserError(f"--{exc.field}: {exc.message}") from None
    engine = _engine()
    try:
        report = service_levels_json(service_levels.report(db.sessions(engine), span, now))
    finally:
        engine.dispose()
    if as_json:
        _print_json(report)
        return
    t = report["total"]
    out.print(f"{report['since']} .. {report['until']}")
    for label, key in (
        ("offered", "offered"), ("answered", "answered"), ("abandoned", "abandoned"),
        ("unanswered", "unanswered"), ("rejected", "rejected"), ("queued", "queued"),
        ("answered within 20 s", "answered_within_20"),
        ("answered within 60 s", "answered_within_60"), ("wait avg s", "wait_avg"),
        ("wait p90 s", "wait_p90"), ("talk avg s", "talk_avg"),
        ("callbacks made", "callbacks_made"), ("callbacks in time", "callbacks_in_time"),
    ):  # fmt: skip
        out.print(f"  {label:22} {'-' if t[key] is None else t[key]}")
