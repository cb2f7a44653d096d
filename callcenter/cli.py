"""The `callcenter` command: admin tasks and routing decisions, for people and programs.

Every command prints one clear line on stderr and exits non-zero on bad input; no traceback.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from callcenter import render, services
from callcenter.cli_common import JsonFlag, UserError, _engine, _now, _print_json, _unit_of_work
from callcenter.cli_reports import reports_app
from callcenter.cli_users import users_app
from callcenter.config import SettingError, Settings
from callcenter.contract_file import CheckedFile
from callcenter.display import visible
from callcenter.domain.allowance import Consolidation, consolidation_refusal
from callcenter.domain.calendar import Closure
from callcenter.domain.contract_csv import CsvError
from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import about_other_site
from callcenter.store import call_log, migrate
from callcenter.store import repositories as repo
from callcenter.timeparse import parse_date, parse_time

app = typer.Typer(
    help="callcenter: a contract-aware support line on Asterisk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
contracts_app = typer.Typer(help="Support contracts.", no_args_is_help=True)
closures_app = typer.Typer(help="Announced holiday closures of the desk.", no_args_is_help=True)
tickets_app = typer.Typer(help="Support requests.", no_args_is_help=True)
calls_app = typer.Typer(help="The call log.", no_args_is_help=True)
callbacks_app = typer.Typer(help="Missed calls to return.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(contracts_app, name="contracts")
app.add_typer(closures_app, name="closures")
app.add_typer(tickets_app, name="tickets")
app.add_typer(calls_app, name="calls")
app.add_typer(callbacks_app, name="callbacks")
app.add_typer(users_app, name="users")
app.add_typer(reports_app, name="reports")

# Plain text: what we print is never read as markup or emoji codes (outside text is in it).
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


def _parse(parse: Callable[[str], Any], text: str, option: str) -> Any:
    try:
        return parse(text)
    except ValueError as exc:
        raise UserError(f"{option}: {exc}") from None


# --- db --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest revision."""
    engine = _engine()
    try:
        migrate.upgrade(engine)
        out.print(f"database at revision {migrate.current(engine)}")
    finally:
        engine.dispose()


# --- contracts --------------------------------------------------------------------------


@contracts_app.command("import")
def contracts_import(
    file: Annotated[Path, typer.Argument(help="UTF-8 CSV with the contract columns.")],
    as_json: JsonFlag = False,
) -> None:
    """Import contracts from CSV: all rows or none; re-importing changes nothing."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    region = Settings.from_env().region
    # What is loaded by now lives to the end: no collection need look through it again
    # while a large file's contracts are made (in this process and the checker).
    gc.freeze()
    try:
        # A second process checks the file while this one writes (contract_file.py).
        with CheckedFile(data, region) as checked, _unit_of_work() as session:
            result = render.import_with_progress(session, checked, _now(), out)
    except CsvError as exc:
        name = visible(file)
        for error in exc.errors[:20]:
            sys.stderr.write(f"callcenter: {name}: {visible(error)}\n")
        more = len(exc.errors) - 20
        if more > 0:
            sys.stderr.write(f"callcenter: {name}: ... and {more} more bad line(s)\n")
        raise UserError(f"{file}: nothing imported ({len(exc.errors)} bad line(s))") from None
    if as_json:
        _print_json(
            {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )
    else:
        count = result.created + result.updated + result.unchanged
        out.print(
            f"imported {count} contract(s): {result.created} new, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )


@contracts_app.command("show")
def contracts_show(
    number: str,
    at: Annotated[str | None, typer.Option(help="As of this time (default now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """One contract: customer, plan, phones, installation, effective end and why."""
    now = _parse(parse_time, at, "--at") if at else _now()
    with _unit_of_work() as session:
        report = services.contract_report(session, number, now)
    if as_json:
        _print_json(render.contract_json(report))
    else:
        render.contract_text(report, out)


@contracts_app.command("list")
def contracts_list(as_json: JsonFlag = False) -> None:
    """All contracts, by number."""
    with _unit_of_work() as session:
        contracts = repo.contracts(session)
    if as_json:
        _print_json([render.contract_summary(c) for c in contracts])
    else:
        render.contracts_table(contracts, out)


# --- closures ---------------------------------------------------------------------------


@closures_app.command("add")
def closures_add(
    first: Annotated[str, typer.Argument(metavar="FROM", help="First closed day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Argument(metavar="TO", help="Last closed day, YYYY-MM-DD.")],
    note: Annotated[str, typer.Option(help="Why the desk is closed.")] = "",
) -> None:
    """Announce a holiday closure (both days inclusive); it extends paid periods (clause 6)."""
    start, end = _parse(parse_date, first, "FROM"), _parse(parse_date, last, "TO")
    closure = _parse(lambda _: Closure(first=start, last=end, note=note), "", "closure")
    with _unit_of_work() as session:
        saved = repo.add_closure(session, closure, _now())
    out.print(f"closure #{saved.id}: {saved.first} to {saved.last} announced")


@closures_app.command("list")
def closures_list(as_json: JsonFlag = False) -> None:
    """Announced closures."""
    with _unit_of_work() as session:
        closures = repo.closures(session)
    if as_json:
        _print_json(
            [
                {"id": c.id, "from": c.first.isoformat(), "to": c.last.isoformat(), "note": c.note}
                for c in closures
            ]
        )
    else:
        render.closures_table(closures, out)


# --- tickets and consolidations ---------------------------------------------------------


@tickets_app.command("add")
def tickets_add(
    contract: str,
    kind: Annotated[TicketKind, typer.Option(case_sensitive=False, help="How it counts.")],
    at: Annotated[str | None, typer.Option(help="When the request came in.")] = None,
    answered_at: Annotated[str | None, typer.Option(help="When it was answered.")] = None,
    description: Annotated[str, typer.Option(help="What the customer asked.")] = "",
    url: Annotated[str, typer.Option(help="The site the request is about.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Log a support request against a contract (counts against its daily allowance)."""
    received = _parse(parse_time, at, "--at") if at else _now()
    answered = _parse(parse_time, answered_at, "--answered-at") if answered_at else received
    if answered < received:
        raise UserError("--answered-at is before --at")
    with _unit_of_work() as session:
        covered = repo.contract(session, contract)
        other_site = about_other_site(covered, url)
        ticket_id = repo.add_ticket(
            session,
            repo.NewTicket(contract, kind, received, answered, description, url, other_site),
            _now(),
        )
        report = services.contract_report(session, contract, received)
    if as_json:
        _print_json({"id": ticket_id, "other_site": other_site, **render.allowance_json(report)})
        return
    out.print(f"ticket #{ticket_id} ({kind}) logged for {visible(contract)}")
    if other_site:
        flagged = f"flagged: {visible(url)} is not the covered site {visible(covered.site_url)}"
        out.print(flagged, style="yellow")
    a = report.allowance
    out.print(f"allowance on {a.day}: {a.used} of {a.budget} unit(s) used, {a.left} left")


@app.command("consolidate")
def consolidate(
    contract: str,
    day: Annotated[str, typer.Argument(metavar="DATE", help="The day that gets the budgets.")],
    days: Annotated[int, typer.Option("--days", min=2, max=260, help="How many days' allowance.")],
    note: Annotated[str, typer.Option(help="The customer's justification.")] = "",
) -> None:
    """Consolidate N working days' allowance onto DATE (clause 7); the next N-1 get none."""
    when = _parse(parse_date, day, "DATE")
    with _unit_of_work() as session:
        grant = Consolidation(contract, when, days)
        existing = repo.consolidations(session, [contract])
        refusal = consolidation_refusal(grant, services.calendar(session), existing)
        if refusal is not None:
            raise UserError(visible(refusal))
        repo.add_consolidation(session, grant, _now(), note)
    out.print(f"{visible(contract)}: {days} days' allowance consolidated onto {when}")


# --- routing ----------------------------------------------------------------------------


@app.command("route")
def route(
    number: Annotated[str, typer.Argument(help="The caller ID as the PBX gives it.")],
    at: Annotated[str | None, typer.Option(help="Decide as of this time (default now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Where a call from NUMBER goes, and why."""
    now = _parse(parse_time, at, "--at") if at else _now()
    settings = Settings.from_env()
    with _unit_of_work() as session:
        decision = services.route_call(session, number, now, settings.region)
    if as_json:
        _print_json(render.decision_json(decision))
    else:
        render.decision_text(decision, now, out)


# --- the call log -------------------------------------------------------------------------


@calls_app.command("list")
def calls_list(
    since: Annotated[str | None, typer.Option(help="Only calls that arrived since TIME.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="At most this many, newest first.")
    ] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Calls, newest first: caller, decision, outcome, operator, wait and talk time."""
    start = _parse(parse_time, since, "--since") if since else None
    with _unit_of_work() as session:
        rows = call_log.calls_since(session, start, limit)
        calls = [render.call_json(row) for row in rows]
    if as_json:
        _print_json(calls)
    else:
        render.calls_table(calls, out)


@calls_app.command("show")
def calls_show(
    key: Annotated[str, typer.Argument(metavar="ID", help="The call's id or Linkedid.")],
    as_json: JsonFlag = False,
) -> None:
    """One call with every operator rung and what followed it."""
    with _unit_of_work() as session:
        row = call_log.call_row(session, key)
        if row is None:
            raise UserError(f"no call {key!r}")
        call = render.call_json(row)
    if as_json:
        _print_json(call)
    else:
        render.call_text(call, out)


@callbacks_app.command("list")
def callbacks_list(
    all_: Annotated[bool, typer.Option("--all", help="Also the ones done.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Callbacks due (a covered customer's missed call), earliest due first."""
    with _unit_of_work() as session:
        items = [render.callback_json(c) for c in call_log.callbacks(session, not all_)]
    if as_json:
        _print_json(items)
    else:
        render.callbacks_table(items, out)


# --- services ---------------------------------------------------------------------------


def _run(
    agi: bool, listen: bool, web: bool = False, record: Path | None = None, **overrides: Any
) -> None:
    import asyncio  # noqa: PLC0415  (the services only: not loaded by every command)

    from callcenter.pbx.ami import AmiAuthError  # noqa: PLC0415
    from callcenter.runner import configure_logging, run_parts  # noqa: PLC0415

    settings = Settings.from_env()
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    configure_logging()
    migrate.require_schema(_engine(settings))
    try:
        asyncio.run(run_parts(settings, agi=agi, listen=listen, web=web, record=record))
    except AmiAuthError as exc:
        raise UserError(f"AMI login refused for user {settings.ami_user!r}: {exc}") from None
    except (OSError, OverflowError) as exc:
        raise UserError(f"cannot start: {getattr(exc, 'strerror', None) or exc}") from None


@app.command("agi")
def agi(
    host: Annotated[str | None, typer.Option(help="Listen address (CALLCENTER_AGI_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Listen port (CALLCENTER_AGI_PORT).")
    ] = None,
) -> None:
    """Run the FastAGI routing service alone (Asterisk asks it where each call goes)."""
    _run(agi=True, listen=False, agi_host=host, agi_port=port)


@app.command("listen")
def listen(
    record: Annotated[
        Path | None, typer.Option(help="Also write every AMI frame to FILE (JSON lines).")
    ] = None,
) -> None:
    """Run the AMI listener alone: follow every call into the log, publish screen pops."""
    _run(agi=False, listen=True, record=record)


@app.command("serve")
def serve() -> None:
    """Run the routing service, the AMI listener and the web app in one process."""
    _run(agi=True, listen=True, web=True)


@app.command("web")
def web(
    host: Annotated[str | None, typer.Option(help="Listen address (CALLCENTER_WEB_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Listen port (CALLCENTER_WEB_PORT).")
    ] = None,
) -> None:
    """Run the web app alone (operators' screens, managers' pages, the API)."""
    _run(agi=False, listen=False, web=True, web_host=host, web_port=port)


# --- entry point ------------------------------------------------------------------------


def _fail(message: str, status: int = 1) -> int:
    for handler in logging.getLogger().handlers:  # the service's log lines come first
        handler.flush()
    sys.stderr.write(f"callcenter: error: {visible(message)}\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    command = typer.main.get_command(app)
    try:
        done = command.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.ctx and sys.stdout.write(exc.ctx.get_help() + "\n")
        return 0
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return _fail(f"{exc.format_message()}{hint}", 2)
    except click.exceptions.Abort:
        return _fail("aborted", 130)
    except click.ClickException as exc:
        return _fail(exc.format_message())
    except (UserError, repo.NotFoundError, migrate.SchemaError, SettingError) as exc:
        return _fail(str(exc))
    except OverflowError as exc:  # a number past what the database or a date can hold
        return _fail(f"a value is out of range: {exc}")
    except IntegrityError as exc:
        return _fail(f"the database refused the change: {exc.orig}")
    except OperationalError as exc:
        return _fail(f"database error: {exc.orig}")
    except SQLAlchemyError as exc:
        return _fail(f"database error: {exc}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    if done == 130:  # Typer's answer to Ctrl-C (KeyboardInterrupt), given back, not raised
        return _fail("interrupted", 130)
    return done if isinstance(done, int) else 0


if __name__ == "__main__":
    sys.exit(main())
