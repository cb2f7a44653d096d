"""The service-level figures from the store agree with the same figures computed from what
`callcenter calls list --json` and `callbacks list --all --json` print, on real recorded
calls (tests/fixtures/ami) replayed through the listener into a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from callcenter.config import Settings
from callcenter.domain import reports
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.pbx.recording import read_recording
from callcenter.store import call_queries, db, migrate
from callcenter.store import repositories as repo

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


async def test_report_figures_agree_with_calls_list_json(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    sessions = db.sessions(engine)
    with db.transaction(sessions) as session:
        repo.import_contracts(session, parse_contracts(CSV, "PL"), datetime.now(WARSAW))
    listener = Listener(sessions, Settings(database_url=sqlite_url), PopHub())
    names = sorted(p.stem for p in FIXTURES.glob("*.jsonl"))
    assert len(names) >= 4
    for name in names:
        for frame in read_recording(FIXTURES / f"{name}.jsonl"):
            await listener.handle(frame)
    await listener.close()

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
