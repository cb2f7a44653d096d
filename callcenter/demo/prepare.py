"""The live demo's inputs: the demo contracts moved to the demo's day, and its callers.

The bundled contracts (contracts.csv) are written around Tuesday 2026-11-24. The live demo
runs the service on a working day at 10:00 (under libfaketime, the clock moving on from
there): today if today is a working day, else the next one. Every date in the contracts is
moved by the same number of days, so each contract stands to that day as it stands to
2026-11-24, and each route is reached.

    python -m callcenter.demo.prepare OUT_DIR [--today YYYY-MM-DD]

writes OUT_DIR/contracts.csv and OUT_DIR/callers.csv (a sipp injection file: number;name;
From user;Privacy) and prints the demo day.
"""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from callcenter.domain.calendar import Calendar

WARSAW = ZoneInfo("Europe/Warsaw")

ANCHOR = date(2026, 11, 24)  # the day contracts.csv is written around
CONTRACTS = Path(__file__).with_name("contracts.csv")
_DATES = ("paid_from", "paid_until")
_TIMES = ("accepted_at",)

# Who rings in, and the route each one reaches on the demo day (after `scripts/demo`
# gives CC-2026-001 an action today): number, name shown, From user, Privacy.
CALLERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("covered", "604567890", "Agencja Świt", "trunk", "none"),
    ("covered", "607890123", "Fundacja Źródło", "trunk", "none"),
    ("ambiguous", "605678901", "Świt albo Źródło", "trunk", "none"),
    ("limit_reached", "601234567", "ZUI Łódź", "trunk", "none"),
    ("no_contract", "600111222", "Nieznany", "trunk", "none"),
    ("email_only", "602345678", "GOK Żółkiewka", "trunk", "none"),
    ("expired", "603456789", "Ogrody Bąk", "trunk", "none"),
    ("not_started", "606789012", "Kancelaria Ćwik", "trunk", "none"),
    ("withheld", "604567890", "", "anonymous", "id"),
)


def demo_day(today: date, calendar: Calendar | None = None) -> date:
    """Today if it is a working day, else the next working day."""
    return (calendar or Calendar()).working_day_on_or_after(today)


def shift_contracts(text: str, days: int) -> str:
    """The contract CSV with every date and time moved by `days` days."""
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or ()), lineterminator="\n")
    writer.writeheader()
    delta = timedelta(days=days)
    for row in reader:
        for name in _DATES:
            row[name] = (date.fromisoformat(row[name]) + delta).isoformat()
        for name in _TIMES:
            row[name] = (datetime.fromisoformat(row[name]) + delta).isoformat(timespec="seconds")
        writer.writerow(row)
    return out.getvalue()


def callers_csv() -> str:
    """sipp's injection file, in order (every route within the first calls);
    fields number;name;From user;Privacy."""
    lines = ["SEQUENTIAL"] + [
        f"{n};{name};{user};{privacy}" for _, n, name, user, privacy in CALLERS
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(WARSAW).date())
    args = parser.parse_args(argv)
    day = demo_day(args.today)
    args.out.mkdir(parents=True, exist_ok=True)
    text = CONTRACTS.read_text(encoding="utf-8")
    (args.out / "contracts.csv").write_text(
        shift_contracts(text, (day - ANCHOR).days), encoding="utf-8"
    )
    (args.out / "callers.csv").write_text(callers_csv(), encoding="utf-8")
    print(day.isoformat())


if __name__ == "__main__":
    main()
