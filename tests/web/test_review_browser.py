"""The manager's review in a real Chromium against the web app on a real SQLite file: the
tickets list shows a breached ticket with the extension its late answer caused and why a
general question may be skipped; one click answers an open ticket of an expired contract and
its row shows the contract's effective end moved (and the contract active again); the
callbacks list shows the attempt and links the call that made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from review_data import NOW, seed
from web_support import Account, LiveServer, login_in_browser, screenshot

from callcenter.web.api import review as review_api
from callcenter.web.pages import review as review_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def web_db_url(sqlite_url: str) -> str:
    return seed(sqlite_url)


@pytest.fixture
def manager_page(
    live_server: LiveServer, make_user: Callable[..., Account], browser_page: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:  # fmt: skip
    monkeypatch.setattr(review_api, "now", lambda: NOW)
    monkeypatch.setattr(review_pages, "now", lambda: NOW)
    login_in_browser(browser_page, live_server, make_user("boss", "manager"))
    return browser_page


def test_a_manager_sees_breaches_answers_a_late_ticket_and_sees_the_end_move(
    live_server: LiveServer, manager_page: Any
) -> None:
    page = manager_page
    page.click('nav.menu a[href="/tickets"]')
    page.wait_for_url(live_server.url + "/tickets")
    rows = page.locator("tr.review-ticket")
    assert rows.count() == 3
    late_answered = page.locator('tr.review-ticket[data-state="answered"]')
    assert late_answered.locator('[data-f="breached"]').inner_text() == "po terminie"
    assert late_answered.locator('[data-f="extension"]').inner_text() == (
        "+3 dni: koniec okresu 2026-12-31 → 2027-01-03")  # fmt: skip
    general = rows.nth(0)
    assert general.locator('[data-f="skip"] li[data-clause="8"]').inner_text() == (
        "Pytanie ogólne: może zostać pominięte (pkt 8).")  # fmt: skip
    assert general.locator('[data-f="breached"]').count() == 0
    expired = page.locator("tr.review-ticket", has=page.locator('[data-f="contract"]',
                                                              has_text="CC-2026-003"))  # fmt: skip
    assert expired.locator('[data-f="effective_until"]').inner_text() == "2026-05-31"
    assert expired.locator('[data-f="inactive"]').is_visible()
    assert expired.locator('[data-f="breached"]').is_visible()
    screenshot(page, "review-tickets")

    expired.locator('[data-action="answer"]').click()
    page.wait_for_load_state()
    expired.locator('[data-f="state"]', has_text="odpowiedziane").wait_for()
    # Due May 21 16:00, answered Nov 24 10:00: 187 started days; May 31 -> Dec 4.
    assert expired.locator('[data-f="effective_until"]').inner_text() == "2026-12-04"
    assert expired.locator('[data-f="extension"]').inner_text() == (
        "+187 dni: koniec okresu 2026-05-31 → 2026-12-04")  # fmt: skip
    assert expired.locator('[data-f="inactive"]').count() == 0  # in its period again
    assert expired.locator('[data-action="answer"]').count() == 0  # no second click to make
    screenshot(page, "review-tickets-answered")

    expired.locator("td a").first.click()
    page.locator("dl.facts").wait_for()
    assert page.locator('dl.facts [data-f="effective_until"]').inner_text() == "2026-12-04"
    screenshot(page, "review-ticket")

    page.click('nav.menu a[href="/callbacks"]')
    page.wait_for_url(live_server.url + "/callbacks")
    row = page.locator("tr.review-callback").first
    assert row.locator('[data-f="breached"]').is_visible()
    assert row.locator('[data-f="attempts"] li').inner_text() == (
        "2026-11-23 09:00 · op1: u klienta zajęte")  # fmt: skip
    assert row.locator('[data-f="calls"] a').get_attribute("href", timeout=1000).startswith(
        "/calls/")  # fmt: skip
    screenshot(page, "review-callbacks")
