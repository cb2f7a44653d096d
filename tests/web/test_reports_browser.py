"""A manager in Chromium opens /reports, picks a range, sees the three plots drawn by
Chart.js (their canvases have pixels), the tables, downloads the CSV and reads it back; the
API refuses bad ranges naming the field and neutralises hostile cells."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from web_support import Account, LiveServer, bearer, login_in_browser, screenshot

from callcenter.domain.calendar import WARSAW
from callcenter.domain.terms import Reason
from callcenter.store import db
from callcenter.store.models import CallbackRow, CallRingRow, CallRow

pytestmark = pytest.mark.browser
HOSTILE = '=HYPERLINK("http://x")<b>'
DAYS = [date(2026, 11, 2) + timedelta(days=i) for i in range(5)]  # Mon 2 .. Fri 6 November


def fill_calls(url: str) -> int:
    """A week of calls: answered fast and slow, abandoned, timed out, turned away; a
    callback; a contract named like a formula. Returns the calls offered."""
    engine = db.make_engine(url)
    offered = 0
    with db.transaction(db.sessions(engine)) as session:
        n = 0
        for day in DAYS:
            for hour, outcome, wait, contract, route, reason in (
                (9, "answered", 8.0, "K-1", "queue", "covered"),
                (10, "answered", 45.0, "K-1", "queue", "covered"),
                (11, "abandoned", 30.0, HOSTILE, "queue", "covered"),
                (14, "unanswered", 120.0, "K-2", "queue", "covered"),
                (17, "rejected", None, None, "closed", "outside_hours"),
                (12, "rejected", None, None, "no_contract", "unknown_number"),
            ):
                n += 1
                arrived = datetime(day.year, day.month, day.day, hour, n % 60, tzinfo=WARSAW)
                queued = arrived + timedelta(seconds=4) if wait is not None else None
                row = CallRow(
                    linkedid=f"b.{n}", arrived_at=arrived.astimezone(UTC), contract=contract,
                    route=route, reason=reason, outcome=outcome, queued_at=queued,
                    wait_s=wait, talk_s=120.0 if outcome == "answered" else None,
                    operator="op1" if outcome == "answered" else None, state="ended",
                )  # fmt: skip
                if queued is not None:
                    row.rings = [CallRingRow(
                        position=0, endpoint="op1", started_at=queued, seconds=min(wait or 0, 15),
                        result="answered" if outcome == "answered" else "no_answer")]  # fmt: skip
                if outcome == "unanswered":
                    cb = CallbackRow(
                        caller_e164="+48601000002", contract="K-2", first_call_at=arrived,
                        last_call_at=arrived, due_at=arrived + timedelta(hours=3),
                        done_at=arrived + timedelta(hours=1), created_at=arrived,
                    )  # fmt: skip
                    session.add(cb)
                    session.flush()
                    row.callback_id = cb.id
                session.add(row)
                offered += 1
    engine.dispose()
    return offered


def painted(page: Any, selector: str) -> int:
    """How many pixels of the canvas are not transparent."""
    count: int = page.eval_on_selector(
        selector,
        """c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }""",
    )
    return count


@pytest.fixture
def manager_account(make_user: Callable[..., Account]) -> Account:
    return make_user("boss", "manager")


def test_manager_reads_the_service_levels_plots_tables_and_csv(
    live_server: LiveServer, manager_account: Account, browser_page: Any, tmp_path: Any
) -> None:
    offered = fill_calls(live_server.settings.database_url)
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(  # every script and style loads (the browser's own favicon request aside)
        "response",
        lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    login_in_browser(page, live_server, manager_account)
    page.goto(live_server.url + "/reports")
    assert page.inner_text("h1") == "Poziom obsługi"
    page.fill('input[name="since"]', "2026-11-02")
    page.fill('input[name="until"]', "2026-11-08")
    page.click('form.range button[type="submit"]')
    page.wait_for_url("**/reports?since=2026-11-02&until=2026-11-08")
    for chart in ("hours", "service", "reasons"):
        page.wait_for_selector(f'#chart-{chart}[data-drawn="true"]')
        assert painted(page, f"#chart-{chart}") > 500, chart
    assert errors == []

    days = page.locator("#by-day tbody tr")
    assert days.count() == 5  # the working days; the weekend had no calls
    first = days.nth(0).inner_text()
    assert first.startswith("2026-11-02")
    # per day: 6 offered, 2 answered, 1 abandoned, 1 unanswered, 2 turned away, 4 queued,
    # answered in 20 s: 1 of 4 (25 %), waits 8 30 45 120 -> p90 120 s
    cells = days.nth(0).locator("td").all_inner_texts()
    assert cells[:6] == ["6", "2", "1", "1", "2", "4"]
    assert cells[6] == "1 (25 %)" and cells[9] == "120.0 s"
    assert page.locator("#by-operator tbody tr").first.inner_text().startswith("op1")
    contracts = page.locator("#by-contract tbody th").all_inner_texts()
    assert HOSTILE in contracts  # shown as text, never as markup
    assert page.locator("#by-contract b").count() == 0
    rejections = page.locator("#rejections tbody").inner_text()
    assert "poza godzinami pracy" in rejections and "bez umowy" in rejections
    screenshot(page, "reports-range")

    with live_server.client() as http:  # the API lists the contracts asked for, most first
        auth = {"Authorization": f"Bearer {bearer(http, manager_account)}"}
        week = {"since": "2026-11-02", "until": "2026-11-08"}
        top = http.get("/api/reports/service-levels", params={**week, "contracts": "1"},
                       headers=auth).json()  # fmt: skip
        assert [c["contract"] for c in top["contracts"]] == ["K-1"]
        assert top["contracts_total"] == 3

    with page.expect_download() as info:
        page.click("a.csv")
    path = tmp_path / "report.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    total = next(r for r in rows if r["section"] == "total")
    assert total["key"] == "2026-11-02..2026-11-08"
    assert int(total["offered"]) == offered == 30
    assert [r["key"] for r in rows if r["section"] == "day"] == [d.isoformat() for d in DAYS]
    hostile = next(r for r in rows if r["section"] == "contract" and HOSTILE in r["key"])
    assert hostile["key"] == "'" + HOSTILE  # a spreadsheet reads it as text
    assert next(r for r in rows if r["key"] == "K-2")["callbacks_in_time"] == "5"


def test_every_reason_of_a_busy_day_is_named_beside_its_bar(
    live_server: LiveServer, manager_account: Account, browser_page: Any
) -> None:
    """Chart.js skips category labels that do not fit: the reasons' plot grows instead,
    so no bar is left without its reason."""
    reasons = [r for r in Reason if r not in (Reason.COVERED, Reason.AMBIGUOUS)]
    engine = db.make_engine(live_server.settings.database_url)
    with db.transaction(db.sessions(engine)) as session:
        for i, reason in enumerate(reasons):
            arrived = datetime(2026, 11, 9, 9, i, tzinfo=WARSAW).astimezone(UTC)
            for n in range(i + 1):  # a different count each: the bars are sorted by it
                session.add(CallRow(
                    linkedid=f"r.{i}.{n}", arrived_at=arrived, route="closed",
                    reason=reason.value, outcome="rejected", state="ended",
                ))  # fmt: skip
    engine.dispose()
    page = browser_page
    login_in_browser(page, live_server, manager_account)
    page.goto(live_server.url + "/reports?since=2026-11-09&until=2026-11-09")
    page.wait_for_selector('#chart-reasons[data-drawn="true"]')
    shown = page.eval_on_selector(
        "#chart-reasons",
        "c => [window.Chart.getChart(c).scales.y.ticks.length, c.dataset.chart]",
    )
    assert shown[0] == len(reasons) == len(json.loads(shown[1])["labels"])
    screenshot(page, "reports-every-reason")


def test_the_page_lists_the_hundred_contracts_with_most_calls_and_counts_the_rest(
    live_server: LiveServer, manager_account: Account, browser_page: Any
) -> None:
    engine = db.make_engine(live_server.settings.database_url)
    with db.transaction(db.sessions(engine)) as session:
        for i in range(130):  # contract C-000 has 1 call, C-129 has 3
            for n in range(1 + i // 50):
                session.add(CallRow(
                    linkedid=f"c.{i}.{n}", contract=f"C-{i:03d}", route="closed",
                    reason="outside_hours", outcome="rejected", state="ended",
                    arrived_at=datetime(2026, 11, 10, 18, n, tzinfo=WARSAW).astimezone(UTC),
                ))  # fmt: skip
    engine.dispose()
    page = browser_page
    login_in_browser(page, live_server, manager_account)
    page.goto(live_server.url + "/reports?since=2026-11-10&until=2026-11-10")
    listed = page.locator("#by-contract tbody th").all_inner_texts()
    assert len(listed) == 100
    assert listed[:30] == [f"C-{i:03d}" for i in range(100, 130)]  # 3 calls each
    assert listed[30:] == [f"C-{i:03d}" for i in range(50, 100)] + [
        f"C-{i:03d}" for i in range(20)
    ]  # then 2 calls each, then the first of those with one, by number
    assert "pozostałe (30) są w pliku CSV" in page.inner_text("main")


def test_a_bad_range_is_named_on_the_page_and_in_the_api(
    live_server: LiveServer, manager_account: Account, browser_page: Any
) -> None:
    login_in_browser(browser_page, live_server, manager_account)
    browser_page.goto(live_server.url + "/reports?since=2026-11-30&until=2026-11-01")
    assert "Do: koniec zakresu przed jego początkiem" in browser_page.inner_text(".error")
    screenshot(browser_page, "reports-bad-range")
    with live_server.client() as http:
        auth = {"Authorization": f"Bearer {bearer(http, manager_account)}"}
        for query, field in (
            ({"since": "2026-13-01"}, "since"),
            ({"since": "jutro"}, "since"),
            ({"since": "2026-11-01'; DROP TABLE calls;--"}, "since"),
            ({"until": "20261101"}, "until"),
            ({"since": "2026-11-30", "until": "2026-11-01"}, "until"),
            ({"since": "2000-01-01", "until": "2026-11-01"}, "until"),
            ({"since": "0001-01-01", "until": "0001-01-02"}, "since"),
            ({"since": "2026-11-01", "until": "9999-12-31"}, "until"),
            ({"since": "２０２６-11-01"}, "since"),
        ):
            for path in ("/api/reports/service-levels", "/api/reports/service-levels.csv"):
                answer = http.get(path, params=query, headers=auth)
                assert answer.status_code == 422, (path, query)
                assert answer.json()["detail"][0]["field"] == field, (path, query)
        fine = http.get("/api/reports/service-levels", headers=auth)  # this month by default
        assert fine.status_code == 200
        assert fine.json()["since"].endswith("-01")
        for count in ("0", "-1", "100001", "9" * 400, "1e3", "１", " 5", "all", ""):
            answer = http.get(
                "/api/reports/service-levels", params={"contracts": count}, headers=auth
            )
            assert answer.status_code == 422, count
            assert answer.json()["detail"][0]["field"] == "contracts", count
