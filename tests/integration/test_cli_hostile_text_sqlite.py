"""Text from outside shown as written by the real console script, on a real SQLite file.

Contracts come in through `contracts import` (a CSV a customer's data could be in), calls
through the real FastAGI routing service on loopback (the caller number and name as a
caller's phone sends them). Then `route`, `calls list`/`show` and `contracts list`/`show`
must neither crash nor let the text act as rich markup, emoji codes or terminal control.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.domain.contract_csv import COLUMNS
from callcenter.store import db, migrate
from dialplan.routing import RoutingService
from dialplan.server import GuardedApplication, start_server
from tests.support.agi_client import call, headers

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
# What an attacker types where a name goes: markup, a closing tag alone, a link, an emoji
# code, a terminal escape sequence, control characters, bidi override, a trailing backslash.
MARKUP = "[bold]Zakład[/] [/] [link=https://evil.example]kliknij[/link] :smile: [red]"
ANSI = "Firma \x1b[31mczerwona\x1b[0m\x1b]8;;https://evil.example\x07x"
CONTROL = "A\rB\bC\x07D\u202eE\\"
LONG = "Ż" * 190 + "[/]"  # near the customer column's 200


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def _row(number: str, customer: str, phone: str) -> dict[str, str]:
    return {
        "number": number, "customer": customer, "plan": "phone", "billing": "yearly",
        "paid_from": "2026-01-01", "paid_until": "2026-12-31", "product": "SmodCMS",
        "site_url": "https://a.example.pl", "phones": phone, "email": "a@a.pl",
        "accepted_at": "2025-12-20T10:15:00", "daily_units": "",
    }  # fmt: skip


class Cli:
    def __init__(self, url: str) -> None:
        self.env = {**os.environ, "CALLCENTER_DATABASE_URL": url, "COLUMNS": "400"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CALLCENTER, *args], env=self.env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "\x1b" not in done.stdout  # nothing reaches the terminal as control
        return done.stdout

    def fails(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("callcenter: error: "), done.stderr
        assert "\x1b" not in done.stderr
        return done.stderr


def _shown(text: str) -> str:
    """How a value with control characters is shown: each as its escape."""
    return (
        text.replace("\x1b", "\\x1b").replace("\r", "\\r").replace("\b", "\\x08")
        .replace("\x07", "\\x07").replace("\u202e", "\\u202e")
    )  # fmt: skip


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path) -> Cli:
    cli = Cli(sqlite_url)
    cli.ok("db", "upgrade")
    contracts = tmp_path / "contracts.csv"
    contracts.write_bytes(
        _csv([
            _row("[/]", MARKUP, "601 234 567"),
            _row("K-[bold]2", ANSI, "601 234 568"),
            _row("K-3\x1b[2J", CONTROL, "601 234 569"),
            _row("K-4", LONG, "601 234 570"),
        ]).encode()
    )  # fmt: skip
    cli.ok("contracts", "import", str(contracts))
    return cli


async def _calls_through_fastagi(url: str, calls: list[tuple[str, str, str]]) -> None:
    """Each (uniqueid, caller number, caller name) as a call asking the routing service."""
    engine = db.make_engine(url)
    migrate.require_schema(engine)
    service = RoutingService(db.sessions(engine))
    app = GuardedApplication()
    app.add_route("route", service.handle)
    server = await start_server(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for uniqueid, number, name in calls:
            exchange = await call(port, headers(number, uniqueid=uniqueid, name=name))
            assert exchange.variables["CC_CALL"] == uniqueid
    finally:
        server.close()
        await server.wait_closed()
        await service.drain()
        engine.dispose()


def test_contracts_show_and_list_show_names_and_numbers_as_written(cli: Cli) -> None:
    shown = cli.ok("contracts", "show", "[/]")
    assert shown.splitlines()[0] == f"[/]  {MARKUP}"
    shown = cli.ok("contracts", "show", "K-[bold]2")
    assert shown.splitlines()[0] == f"K-[bold]2  {_shown(ANSI)}"
    shown = cli.ok("contracts", "show", "K-3\x1b[2J")
    assert shown.splitlines()[0] == f"K-3\\x1b[2J  {_shown(CONTROL)}"
    shown = cli.ok("contracts", "show", "K-4")
    assert shown.splitlines()[0] == f"K-4  {LONG}"  # whole, on one line
    listed = cli.ok("contracts", "list")
    for text in ("[/]", MARKUP, "K-[bold]2", _shown(ANSI), "K-3\\x1b[2J", _shown(CONTROL)):
        assert text in listed, text
    assert "…" not in listed  # nothing cut short
    assert "".join(ch for ch in listed if ch in "Ż") == "Ż" * 190  # the long name, all of it


def test_route_explains_a_hostile_contract_and_caller_as_written(cli: Cli) -> None:
    shown = cli.ok("route", "601 234 567", "--at", "2026-11-24T10:00")
    assert "contract: [/]" in shown
    assert "route: queue" in shown
    for caller in ("[/]", "[bold]x", "[link=https://evil.example]x", "\x1b[31mx", ":smile:"):
        shown = cli.ok("route", caller, "--at", "2026-11-24T10:00")
        assert shown.splitlines()[0].startswith(f"caller {visible_repr(caller)} at "), shown


def visible_repr(text: str) -> str:
    return repr(text)  # a caller that is not a number is shown quoted, escapes and all


def test_calls_list_and_show_show_caller_text_as_written(cli: Cli, sqlite_url: str) -> None:
    long_name = "N" * 197 + "[/]"  # as long as its column (200); a longer one is cut to it
    asyncio.run(
        _calls_through_fastagi(
            sqlite_url,
            [
                ("h.1", "[/]", MARKUP),
                ("h.2", "[bold]601234568", ANSI),
                ("h.3", "601234569", CONTROL),
                ("h.4", "[link=x]", long_name),
            ],
        )
    )
    listed = cli.ok("calls", "list")
    for text in ("[/]", "[bold]601234568", "+48601234569", "[link=x]"):
        assert text in listed, text
    shown = cli.ok("calls", "show", "h.1")
    assert f"caller: {MARKUP} <[/]> " in shown
    shown = cli.ok("calls", "show", "h.2")
    assert f"caller: {_shown(ANSI)} <[bold]601234568> " in shown
    shown = cli.ok("calls", "show", "h.3")
    assert f"caller: {_shown(CONTROL)} <601234569> +48601234569" in shown
    assert "contract: K-3\\x1b[2J" in shown or "contract: -" in shown
    shown = cli.ok("calls", "show", "h.4")
    assert f"caller: {long_name} <[link=x]> " in shown  # whole, on one line


def test_errors_show_outside_text_as_written_on_one_line(cli: Cli) -> None:
    error = cli.fails("contracts", "show", "[bold]nope\x1b[31m\nsecond line")
    assert error.count("\n") == 1  # one line: the line break in the argument is escaped
    assert "[bold]nope\\x1b[31m\\nsecond line" in error
    error = cli.fails("calls", "show", "[/]")
    assert "no call '[/]'" in error
    error = cli.fails("route", "1", "--at", "[red]\x1b[2Jsoon")
    assert "--at: '[red]\\x1b[2Jsoon' is not a time" in error


def test_a_bad_csv_line_and_its_file_name_are_shown_as_written(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J[bold].csv"
    bad = _row("K-9", "Ok", "601 234 571") | {"plan": "[red]\x1b[5mgold"}
    path.write_bytes(_csv([bad]).encode())
    error = cli.fails("contracts", "import", str(path))
    assert "evil\\x1b[2J[bold].csv: line 2: plan: '[red]\\x1b[5mgold' is not one of" in error
