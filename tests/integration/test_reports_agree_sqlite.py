"""The service-level figures agree with the same figures computed from what `callcenter
calls list --json` and `callbacks list --all --json` print, on real recorded calls
(tests/fixtures/ami) replayed through the listener into a real SQLite file: the store's facts,
and every figure the service-level API answers (JSON and CSV, from the tallies the replayed
calls' writes kept current)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from callcenter import accounts, csv_export
from callcenter.config import Settings
from callcenter.domain import reports
from callcenter.domain.accounts import Role
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.report_tallies import ServiceLevels
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.pbx.recording import read_recording
from callcenter.report_render import CSV_HEADER, csv_rows, service_levels_json
from callcenter.store import call_queries, db, migrate
from callcenter.store import repositories as repo
from callcenter.web.app import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "A-1,Zakład Łódź,phone,yearly,2020-01-01,2099-12-31,SmodCMS,https://a.example.pl,"
    "+48601000001,a@a.pl,2019-12-20T10:15:00,\n"
)


def _cli(url: str, *args: str) -> list[dict[str, object]]:
    env = {**os.environ, "CALLCENTER_DATABASE_URL": url}
    done = subprocess.run(
        [CALLCENTER, *args, "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


async def _replayed(url: str) -> None:
    """The recorded calls, replayed through the listener into the database at `url`."""
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.sessions(engine)
    with db.transaction(sessions) as session:
        repo.import_contracts(session, parse_contracts(CSV, "PL"), datetime.now(WARSAW))
    listener = Listener(sessions, Settings(database_url=url), PopHub())
    names = sorted(p.stem for p in FIXTURES.glob("*.jsonl"))
    assert len(names) >= 4
    for name in names:
        for frame in read_recording(FIXTURES / f"{name}.jsonl"):
            await listener.handle(frame)
    await listener.close()
    engine.dispose()


async def test_report_figures_agree_with_calls_list_json(sqlite_url: str) -> None:
    await _replayed(sqlite_url)
    engine = db.make_engine(sqlite_url)
    sessions = db.sessions(engine)

    calls = [reports.call_facts(c) for c in _cli(sqlite_url, "calls", "list", "--limit", "10000")]
    callbacks = [reports.callback_facts(c) for c in _cli(sqlite_url, "callbacks", "list", "--all")]
    outcomes = {c.outcome for c in calls}
    assert {"answered", "abandoned", "unanswered", "rejected"} <= outcomes
    assert callbacks, "the covered caller's missed calls opened a callback"

    first = min(c.arrived for c in calls).astimezone(WARSAW).date() - timedelta(days=1)
    last = max(c.arrived for c in calls).astimezone(WARSAW).date() + timedelta(days=1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=WARSAW)
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=WARSAW)
    with sessions() as session:
        stored_calls, stored_callbacks = call_queries.report_facts(session, since, until)
    engine.dispose()

    def by_day(
        c: list[reports.CallFacts], cb: list[reports.CallbackFacts]
    ) -> list[reports.DayFigures]:
        return reports.by_day(c, cb, first, last, Calendar())

    assert by_day(stored_calls, stored_callbacks) == by_day(calls, callbacks)
    assert reports.by_operator(stored_calls) == reports.by_operator(calls)
    assert reports.by_contract(stored_calls, stored_callbacks) == reports.by_contract(
        calls, callbacks
    )
    assert reports.by_hour(stored_calls) == reports.by_hour(calls)
    # and the figures are not empty: every call counts on its day
    days = by_day(calls, callbacks)
    assert sum(d.figures.offered for d in days) == len(calls)
    assert sum(d.figures.answered for d in days) == sum(c.outcome == "answered" for c in calls)


async def test_service_level_api_agrees_with_calls_list_json(sqlite_url: str) -> None:
    await _replayed(sqlite_url)
    calls = [reports.call_facts(c) for c in _cli(sqlite_url, "calls", "list", "--limit", "10000")]
    callbacks = [reports.callback_facts(c) for c in _cli(sqlite_url, "callbacks", "list", "--all")]
    assert {"answered", "abandoned", "unanswered", "rejected"} <= {c.outcome for c in calls}
    first = min(c.arrived for c in calls).astimezone(WARSAW).date() - timedelta(days=1)
    last = max(c.arrived for c in calls).astimezone(WARSAW).date() + timedelta(days=1)

    # What the report must say, computed here from the CLI's JSON by the core's definitions.
    cbs = [cb for cb in callbacks if first <= reports.day_of(cb.first_call) <= last]
    days = reports.by_day(calls, cbs, first, last, Calendar())
    listed = {d.day for d in days}
    expected = ServiceLevels(
        first=first,
        last=last,
        total=reports.figures(
            [c for c in calls if reports.day_of(c.arrived) in listed],
            [cb for cb in cbs if reports.day_of(cb.first_call) in listed],
        ),
        days=days,
        operators=reports.by_operator(calls),
        contracts=reports.by_contract(calls, cbs),
        hours=reports.by_hour(calls),
        contracts_total=len(reports.by_contract(calls, cbs)),
    )

    engine = db.make_engine(sqlite_url)
    sessions = db.sessions(engine)
    settings = Settings(database_url=sqlite_url)
    with db.transaction(sessions) as session:
        boss = accounts.add_user(session, "boss", Role.MANAGER, None, "x" * 16, datetime.now(UTC))
        login = accounts.open_login(session, boss, accounts.BEARER, datetime.now(UTC), settings)
    engine.dispose()
    query = {"since": first.isoformat(), "until": last.isoformat()}
    auth = {"Authorization": f"Bearer {login.token}"}
    with TestClient(create_app(settings, PopHub())) as http:
        answer = http.get("/api/reports/service-levels", params=query, headers=auth)
        assert answer.status_code == 200, answer.text
        got = answer.json()
        sheet = http.get("/api/reports/service-levels.csv", params=query, headers=auth)
        assert sheet.status_code == 200, sheet.text

    want = service_levels_json(expected)
    assert got == want
    # and the figures are not empty: every call counts on its day, the plots have data
    assert got["total"]["offered"] == sum(c.inbound for c in calls) > 0
    assert got["total"]["queued"] > 0 and got["total"]["wait_p90"] is not None
    assert got["rejections"] and any(h["offered"] for h in got["hours"])
    assert got["total"]["callbacks_made"] == len(cbs) > 0

    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == [[csv_export.neutralise(v) for v in row] for row in csv_rows(expected)]
