"""The `callcenter` command through its real entry point (the console script), on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.cli import main

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
DEMO_CSV = Path(__file__).resolve().parents[2] / "callcenter" / "demo" / "contracts.csv"
HEADER = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
)
GOOD_ROW = (
    "N-1,Łukasz Żak,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://zak.example.pl,"
    "601 234 567,l@zak.pl,2025-12-20T10:15:00,\n"
)


class Cli:
    """Runs `callcenter` through `callcenter.cli:main`, the console script's entry point.

    In-process by default (fast); `subprocess=True` runs the installed console script itself.
    """

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str], subprocess: bool = False):
        self.env = {**os.environ, "CALLCENTER_DATABASE_URL": url}
        self.capsys = capsys
        self.subprocess = subprocess

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if self.subprocess:
            return subprocess.run(
                [CALLCENTER, *args], env=self.env, capture_output=True, text=True, timeout=60
            )
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            self.capsys.readouterr()
            status = main(list(args))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        captured = self.capsys.readouterr()
        return subprocess.CompletedProcess(list(args), status, captured.out, captured.err)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args, "--json"))

    def fails(self, *args: str) -> str:
        """Runs a command that must fail: exit non-zero, one line on stderr, no traceback."""
        result = self.run(*args)
        assert result.returncode != 0, result.stdout
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines, "no error message"
        assert lines[-1].startswith("callcenter: error: ")
        return result.stderr


@pytest.fixture
def cli(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    cli = Cli(sqlite_url, capsys)
    cli.ok("db", "upgrade")
    return cli


def test_the_console_script_runs_end_to_end(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(sqlite_url, capsys, subprocess=True)
    assert "callcenter db upgrade" in cli.fails("route", "601234567")
    cli.ok("db", "upgrade")
    cli.ok("contracts", "import", str(DEMO_CSV))
    decision = cli.json("route", "+48 601 234 567", "--at", "2026-11-24T09:00")
    assert decision["route"] == "queue"  # type: ignore[index]
    assert "line 1" in cli.fails("contracts", "import", str(Path(__file__)))
    assert "Usage" not in cli.fails("route")


def test_import_then_reimport_changes_nothing(cli: Cli) -> None:
    assert cli.json("contracts", "import", str(DEMO_CSV)) == {
        "created": 6,
        "updated": 0,
        "unchanged": 0,
    }
    assert cli.json("contracts", "import", str(DEMO_CSV)) == {
        "created": 0,
        "updated": 0,
        "unchanged": 6,
    }
    listed = cli.json("contracts", "list")
    assert isinstance(listed, list)
    assert [c["number"] for c in listed][:2] == ["CC-2026-001", "CC-2026-002"]


def test_a_changed_row_updates_that_contract(cli: Cli, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    cli.ok("contracts", "import", str(first))
    first.write_text(HEADER + GOOD_ROW.replace("2026-12-31", "2027-03-31"), encoding="utf-8")
    assert cli.json("contracts", "import", str(first)) == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
    }
    shown = cli.json("contracts", "show", "N-1")
    assert isinstance(shown, dict)
    assert shown["paid_until"] == "2027-03-31"
    assert shown["customer"] == "Łukasz Żak"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (GOOD_ROW.replace(",phone,", ",gold,"), "plan: 'gold' is not one of"),
        (GOOD_ROW.replace("SmodCMS", "WordPress"), "unknown product 'WordPress'"),
        (GOOD_ROW.replace("2026-12-31", "2026-13-01"), "paid_until: '2026-13-01' is not a date"),
        (GOOD_ROW.replace("601 234 567", "12"), "not a valid phone number: '12'"),
        (GOOD_ROW, "duplicate contract number 'N-1' (first on line 2)"),
    ],
)
def test_a_bad_row_names_its_line_and_imports_nothing(
    cli: Cli, tmp_path: Path, row: str, message: str
) -> None:
    other = GOOD_ROW.replace("N-1", "N-0").replace("601 234 567", "602 000 000")
    bad = tmp_path / "bad.csv"
    first = GOOD_ROW if row == GOOD_ROW else other
    bad.write_text(HEADER + first + row, encoding="utf-8")
    err = cli.fails("contracts", "import", str(bad))
    assert "line 3" in err
    assert message in err
    assert cli.json("contracts", "list") == []


def test_import_errors_for_unreadable_files(cli: Cli, tmp_path: Path) -> None:
    assert "cannot read" in cli.fails("contracts", "import", str(tmp_path / "missing.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + GOOD_ROW).encode("cp1250"))
    assert "is not UTF-8" in cli.fails("contracts", "import", str(latin))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "empty" in cli.fails("contracts", "import", str(empty))


def test_route_json_has_the_documented_fields(cli: Cli) -> None:
    cli.ok("contracts", "import", str(DEMO_CSV))
    decision = cli.json("route", "601 234 567", "--at", "2026-11-24T09:00")
    assert decision == {
        "route": "queue",
        "reason": "covered",
        "number": "+48601234567",
        "caller": "601 234 567",
        "contract": "CC-2026-001",
        "contracts": ["CC-2026-001"],
        "next_open": None,
        "covered": True,
        "rule": "queue",
        "why": decision["why"],  # type: ignore[index]
    }


def test_route_at_with_an_offset_is_converted_to_warsaw_time(cli: Cli) -> None:
    cli.ok("contracts", "import", str(DEMO_CSV))
    # 07:30 UTC is 08:30 in Warsaw (CET): open. Naive 07:30 means Warsaw: closed.
    open_ = cli.json("route", "601234567", "--at", "2026-11-24T07:30:00+00:00")
    closed = cli.json("route", "601234567", "--at", "2026-11-24T07:30")
    assert isinstance(open_, dict) and isinstance(closed, dict)
    assert open_["route"] == "queue"
    assert (closed["route"], closed["reason"]) == ("closed", "outside_hours")
    assert closed["next_open"] == "2026-11-24T08:00:00+01:00"
    assert closed["contract"] == "CC-2026-001"


def test_route_text_explains_the_rule(cli: Cli) -> None:
    cli.ok("contracts", "import", str(DEMO_CSV))
    text = cli.ok("route", "603456789", "--at", "2026-11-24T09:00")
    assert "route: expired" in text
    assert "rule 'expired'" in text
    assert "CC-2026-003 paid 2026-05-01..2026-05-31" in text


def test_tickets_consolidations_and_closures_drive_routing(cli: Cli) -> None:
    """Clauses 6 and 7 through the CLI: a ticket uses the day, a closure extends the period."""
    cli.ok("contracts", "import", str(DEMO_CSV))
    ticket = cli.json(
        "tickets", "add", "CC-2026-001", "--kind", "answer", "--at", "2026-11-24T09:00"
    )
    assert isinstance(ticket, dict)
    assert ticket["allowance"]["left"] == 1
    assert cli.json("route", "601234567", "--at", "2026-11-24T10:00")["route"] == "queue"  # type: ignore[index]
    cli.ok("tickets", "add", "CC-2026-001", "--kind", "answer", "--at", "2026-11-24T10:01")
    limited = cli.json("route", "601234567", "--at", "2026-11-24T10:30")
    assert limited["reason"] == "answers_used"  # type: ignore[index]

    cli.ok("consolidate", "CC-2026-005", "2026-11-25", "--days", "2")
    given_up = cli.json("route", "605678901", "--at", "2026-11-26T09:00")
    assert given_up["contracts"] == ["CC-2026-004"]  # type: ignore[index]

    cli.ok("closures", "add", "2026-12-28", "2026-12-31", "--note", "year end")
    shown = cli.json("contracts", "show", "CC-2026-001")
    assert isinstance(shown, dict)
    assert shown["effective_until"] == "2027-01-04"
    assert shown["extensions"][0]["cause"] == "closure"
    assert cli.json("closures", "list")[0]["note"] == "year end"  # type: ignore[index]


@pytest.mark.parametrize(
    "args",
    [
        ("route", "601234567", "--at", "yesterday"),
        ("route",),
        ("contracts", "show", "NOPE"),
        ("tickets", "add", "NOPE", "--kind", "answer"),
        ("tickets", "add", "CC-2026-001", "--kind", "chat"),
        (
            "tickets",
            "add",
            "CC-2026-001",
            "--kind",
            "answer",
            "--at",
            "2026-11-24T10:00",
            "--answered-at",
            "2026-11-24T09:00",
        ),
        ("closures", "add", "2026-12-31", "2026-12-01"),
        ("closures", "add", "2026-02-30", "2026-03-01"),
        ("consolidate", "CC-2026-001", "2026-11-28", "--days", "2"),
        ("consolidate", "CC-2026-001", "2026-11-25", "--days", "1"),
        ("consolidate", "NOPE", "2026-11-25", "--days", "2"),
        ("no-such-command",),
        ("calls", "show", "NOPE"),
        ("calls", "list", "--since", "yesterday"),
        ("calls", "list", "--limit", "0"),
    ],
)
def test_bad_input_gives_one_line_and_a_nonzero_exit(cli: Cli, args: tuple[str, ...]) -> None:
    cli.ok("contracts", "import", str(DEMO_CSV))
    cli.fails(*args)


def test_tickets_add_flags_another_installation_only(cli: Cli) -> None:
    """Clause 5: the covered site under another spelling is the same installation."""
    cli.ok("contracts", "import", str(DEMO_CSV))
    shown = cli.json("contracts", "show", "CC-2026-001")
    assert isinstance(shown, dict)
    site = str(shown["installation"]["site_url"]).removeprefix("https://")
    same = cli.json(
        "tickets", "add", "CC-2026-001", "--kind", "answer", "--url", f"HTTP://WWW.{site}/a/"
    )
    other = cli.json(
        "tickets", "add", "CC-2026-001", "--kind", "answer", "--url", "https://elsewhere.pl"
    )
    assert (same["other_site"], other["other_site"]) == (False, True)  # type: ignore[index]
