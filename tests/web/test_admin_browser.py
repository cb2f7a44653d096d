"""The admin of the terms in a real Chromium against the web app alone, on a real SQLite
file with the demo contracts (issue 12, item 6): a manager imports a contract CSV with a
bad row and sees the line named and nothing changed, then a good one; adds a closure and
sees a covered contract's effective end move on its page; finds both changes on /audit
with their values before and after; adds an account and disables it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web_support import Account, LiveServer, login_in_browser, screenshot

pytestmark = pytest.mark.browser

HEADER = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
)
NEW_ROW = (
    'NOWA/1,"Pracownia <b>Łąka</b>",phone,yearly,2026-01-01,2026-12-31,SmodCMS,'
    "https://laka.example.pl,606 111 222,laka@laka.pl,2025-12-20T10:00:00,\n"
)
CHANGED_002 = (
    "CC-2026-002,Gminny Ośrodek Kultury w Żółkiewce,email,monthly,2026-11-01,2026-12-31,"
    "SmodBIP,https://gok-zolkiewka.example.pl,602 345 678,gok@zolkiewka.example.pl,"
    "2026-10-28T09:00:00,\n"
)
BAD_ROW = NEW_ROW.replace("NOWA/1", "NOWA/2").replace("2026-12-31", "2026-13-45")


def _contract_rows(page: Any) -> list[str]:
    return [row.inner_text() for row in page.query_selector_all("#contracts tbody tr")]


def _upload(page: Any, name: str, body: str) -> None:
    page.set_input_files('input[name="file"]', files=[
        {"name": name, "mimeType": "text/csv", "buffer": body.encode()}])  # fmt: skip
    assert page.inner_text("#csv-file-name") == name  # the page's own label, as text
    page.click('form[action="/contracts/import"] button[type="submit"]')
    page.wait_for_load_state()


def test_manager_imports_adds_a_closure_and_reads_the_audit_log(
    live_server: LiveServer, make_user: Callable[..., Account], browser_page: Any
) -> None:
    page = browser_page
    login_in_browser(page, live_server, make_user("kierownik", "manager"))
    page.goto(live_server.url + "/contracts")
    before = _contract_rows(page)
    assert len(before) == 6 and before[0].startswith("CC-2026-001")
    screenshot(page, "admin-contracts")

    # A bad row on line 4: the line is named, and nothing was imported.
    _upload(page, "umowy-z-bledem.csv", HEADER + NEW_ROW + CHANGED_002 + BAD_ROW)
    error = page.locator("#import-error")
    error.wait_for()
    assert "Nic nie zaimportowano" in error.inner_text()
    lines = page.locator("#import-error tbody tr")
    assert lines.count() == 1
    assert lines.first.locator("td").first.inner_text() == "4"
    assert "paid_until" in lines.first.inner_text()
    assert _contract_rows(page) == before
    screenshot(page, "admin-import-bad-line")

    # The good file: one new contract, one changed.
    _upload(page, "umowy.csv", HEADER + NEW_ROW + CHANGED_002)
    result = page.locator("#import-result")
    result.wait_for()
    assert "nowe 1, zmienione 1, bez zmian 0" in result.inner_text()
    rows = _contract_rows(page)
    assert len(rows) == 7
    assert any(r.startswith("NOWA/1") and "Pracownia <b>Łąka</b>" in r for r in rows)
    screenshot(page, "admin-import-good")

    # The new contract's page, through its link (a `/` in the number).
    page.click("#contracts a:text('NOWA/1')")
    page.wait_for_selector("#contract-number")
    assert page.inner_text("#contract-number") == "NOWA/1"

    # A closure inside CC-2026-001's paid period moves its effective end.
    page.goto(live_server.url + "/contracts/CC-2026-001")
    until_before = page.inner_text("#effective-until")
    assert until_before == "2026-12-31"
    assert page.inner_text("#extensions") == "brak"
    page.goto(live_server.url + "/closures")
    page.fill('input[name="from"]', "2026-06-01")
    page.fill('input[name="to"]', "2026-06-03")
    page.fill('input[name="note"]', "Inwentaryzacja")
    page.click("#closure-form button[type=submit]")
    page.wait_for_selector("#closures tbody tr td:text('2026-06-01')")
    screenshot(page, "admin-closures")
    page.goto(live_server.url + "/contracts/CC-2026-001")
    until_after = page.inner_text("#effective-until")
    assert until_after > until_before
    assert "przerwa w pracy działu" in page.inner_text("#extensions")
    screenshot(page, "admin-contract-after-closure")

    # Both changes on /audit, with before and after as a small table.
    page.goto(live_server.url + "/audit")
    update = page.locator('#audit tr[data-action="contract.update"]')
    assert update.count() == 1
    diff = update.locator("table.diff tbody tr")
    assert diff.count() == 1
    assert diff.first.locator("th").inner_text() == "opłacona do"
    assert diff.first.locator("td.before").inner_text() == "2026-11-30"
    assert diff.first.locator("td.after").inner_text() == "2026-12-31"
    closure = page.locator('#audit tr[data-action="closure.add"]')
    assert closure.count() == 1 and "kierownik" in closure.inner_text()
    assert "Inwentaryzacja" in closure.locator("td.after").all_inner_texts()
    assert "{" not in page.inner_text("#audit")  # no raw JSON
    screenshot(page, "admin-audit")
    page.fill('input[name="action"]', "closure")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#audit > tbody > tr").count() == 1
    screenshot(page, "admin-audit-filtered")


def test_manager_adds_an_account_and_disables_it(
    live_server: LiveServer, make_user: Callable[..., Account], browser_page: Any
) -> None:
    page = browser_page
    login_in_browser(page, live_server, make_user("kierownik", "manager"))
    page.fill('#user-form input[name="username"]', "op6")
    page.fill('#user-form input[name="password"]', "x")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector("p.error")
    assert "Operator potrzebuje telefonu" in page.inner_text("p.error")
    screenshot(page, "admin-users-refused")
    page.fill('#user-form input[name="endpoint"]', "op6")
    page.fill('#user-form input[name="password"]', "długie hasło 6")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector("#users td:text('op6')")
    row = page.locator("#users tbody tr", has_text="op6")
    row.locator("button:text('Wyłącz')").click()
    page.wait_for_load_state()
    assert "wyłączone" in page.locator("#users tbody tr", has_text="op6").inner_text()
    screenshot(page, "admin-users")
    page.goto(live_server.url + "/audit?actor=kierownik&action=user")
    actions = page.locator("#audit > tbody > tr").evaluate_all(
        "rows => rows.map(r => r.dataset.action)")  # fmt: skip
    assert actions == ["user.disable", "user.add"]
