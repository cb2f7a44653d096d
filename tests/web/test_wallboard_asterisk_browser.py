"""The wallboard end to end: `callcenter serve` (routing service, AMI listener, web app in one
process, under libfaketime at 10:00 Warsaw of the working day, as in
test_desk_asterisk_browser.py) with the real local Asterisk, sipp playing the customer and
the operators' phones, Debian's Chromium as the manager's wall screen.

The wall shows op1-op3 free; a real call: the caller waiting with a ticking wait, op1 and op2
ringing; a reload mid-wait shows the same caller with the wait counted from the join (not
from the reload); op1 answers: talking, op2 free, nobody waiting; a reload mid-talk the same;
the call ends: op1 free, and the day's counters on the wall are the call log's.

Run under the machine's Asterisk lock: `flock /tmp/cc-asterisk.lock .venv/bin/pytest FILE`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_desk_asterisk_browser import (
    NUMBER,
    Caller,
    Desk,
    chromium_page,
    day,
    local_asterisk,
    web_db_url,
)
from web_support import Account, screenshot

from callcenter.domain.calendar import WARSAW
from tests.integration.asterisk_harness import LocalAsterisk, Operator
from tests.integration.services import cli_json
from tests.support.waits import wait_for

__all__ = ["chromium_page", "day", "local_asterisk", "web_db_url"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.browser,
    pytest.mark.timeout(600),
]


@pytest.fixture
def wall_desk(
    local_asterisk: LocalAsterisk,
    web_db_url: str,
    make_user: Callable[..., Account],
    tmp_path: Path,
    day: date,
) -> Iterator[Desk]:
    desk = Desk(web_db_url, tmp_path, local_asterisk, day)
    make_user("boss", "manager")
    desk.serve.start("Uvicorn running", timeout=60)
    try:
        desk.serve.wait_for("wallboard rebuilt from QueueStatus", timeout=60)
        yield desk
    finally:
        desk.serve.stop()
        desk.engine.dispose()


def seconds(clock: str) -> int:
    """ "1:05" or "1:02:03" -> seconds."""
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


def op(page: Any, name: str, state: str) -> str:
    return f'.op[data-name="{name}"][data-state="{state}"]'


def open_wall(page: Any, desk: Desk) -> None:
    page.goto(desk.base + "/wallboard")
    page.wait_for_selector('#wall-link[data-state="open"]')


def test_the_wall_on_real_calls_and_after_reloads(
    wall_desk: Desk, local_asterisk: LocalAsterisk, chromium_page: Any
) -> None:
    desk, page = wall_desk, chromium_page
    page.goto(desk.base + "/login")
    page.fill('input[name="username"]', "boss")
    page.fill('input[name="password"]', "correct horse battery")
    page.click('button[type="submit"]')
    page.wait_for_url(desk.base + "/users")
    open_wall(page, desk)
    for name in ("op1", "op2", "op3"):
        page.wait_for_selector(op(page, name, "free"))
    assert page.locator(".op").count() == 3
    assert page.locator("#wait-empty").is_visible()
    assert page.locator(op(page, "op1", "free") + ' [data-f="state"]').inner_text() == "Wolny"
    screenshot(page, "wallboard-idle")

    caller = Caller()
    with Operator(1, "answer", ring_seconds=9.0), Operator(2, "ring"), Operator(3, "ring"):
        caller.thread.start()
        try:
            row = page.locator(".wait").first
            row.wait_for(timeout=30_000)
            assert row.locator('[data-f="caller"]').inner_text() == NUMBER
            assert row.locator('[data-f="caller_name"]').inner_text() == "Jan Kowalski"
            page.wait_for_selector(op(page, "op1", "ringing"))
            page.wait_for_selector(op(page, "op2", "ringing"))
            assert page.locator(op(page, "op1", "ringing") + ' [data-f="state"]').inner_text() == (
                "Dzwoni"
            )
            # the wait ticks in the page
            first = row.locator('[data-f="time"]').inner_text()
            page.wait_for_function(
                "t => document.querySelector('.wait [data-f=\"time\"]').textContent !== t",
                arg=first,
            )
            assert page.locator("#c-waiting").inner_text() == "1"
            screenshot(page, "wallboard-ringing")

            # A reload while the caller waits: the wait goes on from the join.
            before = seconds(row.locator('[data-f="time"]').inner_text())
            page.reload()
            page.wait_for_selector('#wall-link[data-state="open"]')
            row = page.locator(".wait").first
            row.wait_for()
            assert seconds(row.locator('[data-f="time"]').inner_text()) >= before
            assert row.locator('[data-f="caller"]').inner_text() == NUMBER

            page.wait_for_selector(op(page, "op1", "talking"), timeout=30_000)
            page.wait_for_selector(op(page, "op2", "free"))
            page.locator("#wait-empty").wait_for()
            talking = page.locator(op(page, "op1", "talking"))
            assert talking.locator('[data-f="state"]').inner_text() == "Rozmawia"
            assert talking.locator('[data-f="caller"]').inner_text() == NUMBER
            screenshot(page, "wallboard-talking")

            # A reload mid-talk: the same.
            page.reload()
            page.wait_for_selector('#wall-link[data-state="open"]')
            page.wait_for_selector(op(page, "op1", "talking"))
            assert page.locator(".wait").count() == 0
        finally:
            local_asterisk.cli("channel request hangup all")
        caller.join()
        page.wait_for_selector(op(page, "op1", "free"))

    # The day's counters on the wall are the call log's, as the server counts them (its
    # "today" is the faked working day; the call's times are Asterisk's real ones), once the
    # ended call is in the log.
    [logged] = [c for c in logged_calls(desk) if c["outcome"] is not None]
    assert logged["outcome"] == "answered" and logged["operator"] == "op1"

    def agree() -> bool:
        counts = page.request.get(desk.base + "/api/wallboard").json()["counts"]
        shown = {k: page.locator(f"#c-{k}").inner_text() for k in KEYS}
        return counts["answered"] == (1 if logged_today(desk, logged) else 0) and shown == {
            k: str(counts[k]) for k in KEYS
        }

    wait_for(agree, 30, "the wall's counters equal to the call log's")
    screenshot(page, "wallboard-after")


KEYS = ("offered", "answered", "abandoned", "unanswered", "rejected")


def logged_calls(desk: Desk) -> list[dict[str, Any]]:
    def ended() -> list[dict[str, Any]] | None:
        calls = cli_json(desk.env, "calls", "list")
        assert isinstance(calls, list)
        return calls if calls and all(c["outcome"] for c in calls) else None

    return wait_for(ended, 30, "the call ended in the log")


def logged_today(desk: Desk, call: dict[str, Any]) -> bool:
    """Did the call arrive on the server's (faked) day, in Warsaw?"""
    arrived = datetime.fromisoformat(call["arrived"]).astimezone(WARSAW)
    return arrived.date() == desk.day
