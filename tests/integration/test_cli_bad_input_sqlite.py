"""Bad settings, dates, ports and CSV files through the real console script, on a real
SQLite file: each ends in one clear line (`callcenter: error: ...`) naming the setting, the
option, or the file's line, never in a traceback."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
DEMO_CSV = Path(__file__).resolve().parents[2] / "callcenter" / "demo" / "contracts.csv"
HEADER = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
)
ROW = (
    "N-{n},Łukasz Żak,phone,yearly,2026-01-01,{until},SmodCMS,https://zak.example.pl,"
    "601 234 56{n},l@zak.pl,2025-12-20T10:15:00,\n"
)


class Cli:
    def __init__(self, url: str) -> None:
        self.env = {**os.environ, "CALLCENTER_DATABASE_URL": url}

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CALLCENTER, *args], env={**self.env, **env}, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def error(self, *args: str, **env: str) -> str:
        """The command fails with one line (the last) naming what is wrong; no traceback."""
        done = self.run(*args, **env)
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr, done.stderr
        lines = done.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("callcenter: error: "), done.stderr
        return lines[-1].removeprefix("callcenter: error: ")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One database for the module: a command that fails changes nothing in it."""
    cli = Cli(f"sqlite:///{tmp_path_factory.mktemp('cli') / 'callcenter.db'}")
    cli.ok("db", "upgrade")
    cli.ok("contracts", "import", str(DEMO_CSV))
    return cli


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CALLCENTER_AMI_PORT", "abc", "CALLCENTER_AMI_PORT: 'abc' is not a port number"),
        ("CALLCENTER_AGI_PORT", "99999", "CALLCENTER_AGI_PORT: port 99999 is not between"),
        ("CALLCENTER_AGI_DEADLINE", "fast", "CALLCENTER_AGI_DEADLINE: 'fast' is not a number"),
        ("CALLCENTER_WEB_SECURE_COOKIES", "perhaps", "CALLCENTER_WEB_SECURE_COOKIES:"),
        ("CALLCENTER_REGION", "Mars", "CALLCENTER_REGION: 'MARS' is not a region code"),
        ("CALLCENTER_DATABASE_URL", "nonsense", "CALLCENTER_DATABASE_URL: not a database URL"),
    ],
)
def test_a_bad_setting_names_the_variable(
    cli: Cli, variable: str, value: str, message: str
) -> None:
    assert cli.error("route", "601234567", **{variable: value}).startswith(message)


def test_a_bad_setting_stops_the_services_before_they_start(cli: Cli) -> None:
    assert cli.error("serve", CALLCENTER_AMI_PORT="abc").startswith("CALLCENTER_AMI_PORT:")
    assert cli.error("agi", CALLCENTER_AGI_PORT="99999").startswith("CALLCENTER_AGI_PORT:")


@pytest.mark.parametrize("command", ["agi", "web"])
def test_a_port_option_out_of_range_is_a_usage_error(cli: Cli, command: str) -> None:
    assert "--port" in cli.error(command, "--port", "99999")


@pytest.mark.parametrize(
    "args",
    [
        ("route", "601234567", "--at", "9999-12-31T23:59"),
        ("route", "601234567", "--at", "0001-01-01T00:30+05:00"),
        ("contracts", "show", "CC-2026-001", "--at", "9999-12-31T23:59"),
        ("calls", "list", "--since", "9999-12-31T23:59"),
        ("tickets", "add", "CC-2026-001", "--kind", "answer", "--at", "9999-12-31T23:59"),
        ("tickets", "add", "CC-2026-001", "--kind", "answer", "--answered-at", "9999-12-31"),
        ("closures", "add", "9999-12-30", "9999-12-31"),
        ("consolidate", "CC-2026-001", "9999-12-31", "--days", "2"),
    ],
)
def test_a_date_past_the_supported_days_is_named(cli: Cli, args: tuple[str, ...]) -> None:
    assert "is outside the supported days 1970-01-01 to 2999-12-31" in cli.error(*args)


@pytest.mark.parametrize(
    "args",
    [
        ("calls", "list", "--limit", "99999999999999999999"),
        ("consolidate", "CC-2026-001", "2026-11-25", "--days", "100000000"),
    ],
)
def test_a_number_too_large_is_a_usage_error(cli: Cli, args: tuple[str, ...]) -> None:
    assert "is not in the range" in cli.error(*args)


def test_a_csv_field_over_the_csv_limit_names_its_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    huge = "x" * (csv.field_size_limit() + 1)
    path.write_text(
        HEADER + ROW.format(n=1, until="2026-12-31") + f'N-2,"{huge}",phone\n', encoding="utf-8"
    )
    done = cli.run("contracts", "import", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"line 3: a field is longer than {csv.field_size_limit()} characters" in done.stderr
    assert len(done.stderr) < 1000  # the field is not echoed


def test_a_polish_file_in_windows_1250_names_its_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cp1250.csv"
    path.write_bytes((HEADER + ROW.format(n=1, until="2026-12-31")).encode("cp1250"))
    done = cli.run("contracts", "import", str(path))
    assert done.returncode == 1
    assert "line 2: is not UTF-8 (byte 0xa3 at column 5)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("callcenter: error: ")


def test_leading_blank_lines_are_not_an_empty_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "blank-first.csv"
    path.write_text("\n\r\n" + HEADER + ROW.format(n=1, until="2026-12-31"), encoding="utf-8")
    assert "imported 1 contract(s)" in cli.ok("contracts", "import", str(path))
    path.write_text("\n\n" + HEADER + ROW.format(n=2, until="9999-12-31"), encoding="utf-8")
    done = cli.run("contracts", "import", str(path))
    assert "line 4: paid_until: 9999-12-31 is outside the supported days" in done.stderr
