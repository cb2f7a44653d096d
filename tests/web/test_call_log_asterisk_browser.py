"""The manager's call log end to end: a real call through the real local Asterisk (sipp the
customer, op1's phone answering) logged by `callcenter serve` (the same harness as the
operator's desk, tests/web/test_desk_asterisk_browser.py), then a manager in Debian's
Chromium finds it in `/calls` by the caller's number typed in another form and by a filter,
opens its timeline, and downloads the CSV of the filter and reads it back.

Run under the machine's Asterisk lock: `flock /tmp/cc-asterisk.lock .venv/bin/pytest FILE`."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_desk_asterisk_browser import (  # the desk's harness: fixtures and the serve wrapper
    CONTRACT,
    NUMBER,
    Desk,
    chromium_page,
    day,
    desk,
    local_asterisk,
    web_db_url,
)
from web_support import Account, screenshot

from callcenter.store.models import CallRow
from tests.integration.asterisk_harness import LocalAsterisk, Operator, run_caller

__all__ = ["chromium_page", "day", "desk", "local_asterisk", "web_db_url"]  # fixtures used

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.browser,
    pytest.mark.timeout(600),
]


def _ended_call(desk: Desk, timeout: float = 30) -> CallRow:
    """The test's call once the listener has logged its end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with desk.sessions() as session:
            row = session.query(CallRow).filter(CallRow.direction == "inbound").first()
            if row is not None and row.state == "ended" and row.outcome:
                session.expunge(row)
                return row
        time.sleep(0.2)
    raise AssertionError("the call did not end in the call log")


def test_a_manager_finds_a_real_call_opens_its_timeline_and_exports_the_csv(
    desk: Desk,
    local_asterisk: LocalAsterisk,
    chromium_page: Any,
    make_user: Callable[..., Account],
    tmp_path: Path,
) -> None:
    boss = make_user("boss", "manager")
    desk.serve.wait_for("fastagi listening", timeout=60)  # else the dialplan fails open
    with Operator(1, "answer", ring_seconds=2.0):
        result = run_caller(number=NUMBER, display_name="Jan Kowalski", hold_seconds=16,
                            timeout=60).check()  # fmt: skip
    assert result.answered
    call = _ended_call(desk)
    assert (call.route, call.reason, call.outcome, call.operator) == (
        "queue", "covered", "answered", "op1",
    )  # fmt: skip

    page = chromium_page
    page.goto(desk.base + "/login")
    page.fill('input[name="username"]', boss.username)
    page.fill('input[name="password"]', boss.password)
    page.click('button[type="submit"]')
    page.wait_for_url(desk.base + "/users")

    # By the caller: the number typed as people write it, not as it is stored.
    page.goto(desk.base + "/calls")
    screenshot(page, "calls-log")
    page.fill('input[name="number"]', "0048 601 234 567")
    page.click(".filter-actions button[type=submit]")
    row = page.locator(f'tr[data-call="{call.id}"]')
    row.wait_for()
    assert page.locator("tbody tr").count() == 1
    cells = row.locator("td").all_inner_texts()
    assert "+48601234567" in cells[1] and "Jan Kowalski" in cells[1]
    assert cells[2] == CONTRACT
    assert cells[3].startswith("kolejka") and "umowa obejmuje" in cells[3]
    assert (cells[4], cells[5]) == ("odebrane", "op1")
    screenshot(page, "calls-by-number")

    # By a filter: the contract and the outcome, chosen from the form.
    page.goto(desk.base + "/calls")
    page.fill('input[name="contract"]', CONTRACT)
    page.select_option('select[name="outcome"]', "answered")
    page.click(".filter-actions button[type=submit]")
    page.locator(f'tr[data-call="{call.id}"]').wait_for()
    assert "outcome=answered" in page.url and "contract=" in page.url
    page.select_option('select[name="outcome"]', "abandoned")
    page.click(".filter-actions button[type=submit]")
    page.locator("p.idle").wait_for()  # no abandoned call of that contract
    page.go_back()
    page.locator(f'tr[data-call="{call.id}"]').wait_for()

    # The CSV of the current filter, downloaded by the browser and read back.
    with page.expect_download() as download:
        page.click("a.csv-link")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "polaczenia.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert [(r["id"], r["linkedid"], r["number"], r["outcome"], r["operator"]) for r in rows] == [
        (str(call.id), call.linkedid, "'" + NUMBER, "answered", "op1")
    ]  # a leading + is made text: a spreadsheet keeps the number as written

    # Its timeline: every step, each with its time.
    page.click(f'tr[data-call="{call.id}"] a')
    page.wait_for_url(f"{desk.base}/calls/{call.id}")
    kinds = [li.get_attribute("data-kind") for li in page.locator(".timeline li").all()]
    # The decision is stamped by serve's clock (faked to 10:00 of the working day here), the
    # other steps by Asterisk's: their order is the call's.
    assert "decided" in kinds
    heard = [k for k in kinds if k != "decided"]
    assert heard[:3] == ["arrived", "queued", "rung"], kinds
    answered = heard.index("answered")
    assert set(heard[2:answered]) == {"rung"} and "ended" in heard[answered:], kinds
    rung = page.locator('.timeline li[data-kind="rung"]').first.inner_text()
    assert "operator op1" in rung and "odebrał" in rung
    decided = page.locator('.timeline li[data-kind="decided"]').inner_text()
    assert "kolejka" in decided and "reguła" in decided
    assert "przez operatora op1" in page.locator('.timeline li[data-kind="answered"]').inner_text()
    screenshot(page, "call-timeline")
