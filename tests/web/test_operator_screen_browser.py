"""The operator's screen in a real Chromium (Debian's, through Playwright): log in, a pop
published into the hub is drawn, a reload shows it again (replayed from the call log), an
ambiguous call offers every contract to pick, a call taken elsewhere closes saying who took
it, an ended call stays marked until dismissed. Screenshots in tests/web/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from web_support import Account, LiveServer, login_in_browser, screenshot

from callcenter.domain.calendar import Closure
from callcenter.domain.calls import Call, CallState, Ring
from callcenter.pbx.popinfo import pop_payloads
from callcenter.store import call_log, db
from callcenter.store import repositories as repo
from callcenter.store.models import CallbackRow

pytestmark = pytest.mark.browser

CONTRACT = "CC-2026-001"


def _ringing_call(url: str, linkedid: str, contract: str | None) -> dict[str, Any]:
    """Log a call ringing at op1 (as the listener would) and return its ringing pop."""
    now = datetime.now(UTC)
    call = Call(
        linkedid=linkedid, state=CallState.QUEUED, arrived=now - timedelta(seconds=6),
        caller_raw="601 234 567", caller_name="Jan <script>alert(1)</script> Kowalski",
        route="queue", reason="covered", contract=contract,
        queued=now - timedelta(seconds=5), rings=(Ring("op1", now - timedelta(seconds=1)),),
    )  # fmt: skip
    engine = db.make_engine(url)
    with db.transaction(db.sessions(engine)) as session:
        call_log.save_calls(session, [call])
    with db.sessions(engine)() as session:
        info = pop_payloads(session, [call])[linkedid]
    engine.dispose()
    return {"kind": "ringing", "endpoint": "op1", "linkedid": linkedid,
            "at": call.rings[0].started.isoformat(), "caller": call.caller_raw,
            "caller_name": call.caller_name, "operator": None, **info}  # fmt: skip


def _closure_and_callback(url: str) -> None:
    """A summer closure (5 days, clause 6 extends the period) and a callback to return."""
    now = datetime.now(UTC)
    engine = db.make_engine(url)
    with db.transaction(db.sessions(engine)) as session:
        repo.add_closure(session, Closure(date(2026, 8, 10), date(2026, 8, 14), "urlop"), now)
        session.add(CallbackRow(caller_e164="+48601234567", contract=CONTRACT,
                                first_call_at=now - timedelta(hours=2),
                                last_call_at=now - timedelta(hours=1), calls=2,
                                due_at=now + timedelta(hours=20), created_at=now))  # fmt: skip
    engine.dispose()


def test_a_pop_appears_on_the_operators_screen_and_survives_a_reload(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    _closure_and_callback(live_server.settings.database_url)
    screenshot(page, "operator-idle")
    pop = _ringing_call(live_server.settings.database_url, "500.1", CONTRACT)
    live_server.publish(pop)
    card = page.locator('.pop[data-linkedid="500.1"]')
    card.wait_for()
    assert card.get_attribute("data-kind") == "ringing"
    assert card.locator('[data-f="customer"]').inner_text() == "Zakład Usług Informatycznych Łódź"
    assert card.locator('[data-f="number"]').inner_text() == CONTRACT
    assert card.locator('[data-f="plan"]').inner_text() == "telefoniczny"
    assert card.locator('[data-f="site_url"]').inner_text() == "https://zui-lodz.example.pl"
    assert "umowa obejmuje rozmowę" in card.locator('[data-f="reason"]').inner_text()
    assert "zostało 2" in card.locator('[data-f="allowance"]').inner_text()
    # Paid until 31.12.2026, five closure days within it: effective 05.01.2027, explained.
    assert card.locator('[data-f="effective_until"]').inner_text() == "05.01.2027"
    assert "31.12.2026" in card.locator('[data-f="paid_until_note"]').inner_text()
    extension = card.locator('[data-f="extensions"] li').inner_text()
    assert extension == "+5 dn.: przerwa w pracy działu 10.08.2026–14.08.2026 (urlop)"
    assert "+48601234567 · 2×" in card.locator('[data-f="callbacks"]').inner_text()
    # Outside text is text: the caller's name is shown, never run.
    assert "<script>" in card.locator('[data-f="caller_name"]').inner_text()
    assert page.evaluate("document.querySelectorAll('.pop script').length") == 0
    assert card.get_attribute("data-contract") == CONTRACT
    assert card.locator('[data-slot="ticket"]').count() == 1
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert csrf and len(csrf) >= 40  # what the page's scripts send as X-CSRF-Token
    screenshot(page, "operator-ringing")

    page.reload()
    page.wait_for_selector('#link-state[data-state="open"]')
    again = page.locator('.pop[data-linkedid="500.1"]')
    again.wait_for()
    assert again.locator('[data-f="customer"]').inner_text() == "Zakład Usług Informatycznych Łódź"
    screenshot(page, "operator-after-reload")

    live_server.publish({**{k: pop[k] for k in ("endpoint", "linkedid", "caller")},
                         "kind": "taken", "operator": "op2",
                         "at": datetime.now(UTC).isoformat()})  # fmt: skip
    page.wait_for_selector('.pop[data-linkedid="500.1"][data-kind="taken"]')
    assert again.locator('[data-f="state"]').inner_text() == "Odebrane przez op2"
    assert "Kowalski" in again.locator('[data-f="caller_name"]').inner_text()
    screenshot(page, "operator-taken-elsewhere")


def test_an_ambiguous_call_shows_every_contract_to_pick_and_an_ended_call_stays(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    pop = _ringing_call(live_server.settings.database_url, "600.1", None)
    engine = db.make_engine(live_server.settings.database_url)
    with db.sessions(engine)() as session:
        from callcenter.pbx.popinfo import contract_summary

        now = datetime.now(UTC)
        both = [contract_summary(session, n, now) for n in (CONTRACT, "CC-2026-003")]
    engine.dispose()
    live_server.publish({**pop, "reason": "ambiguous", "contract": None, "contracts": both})
    card = page.locator('.pop[data-linkedid="600.1"]')
    card.wait_for()
    assert card.locator(".contract").count() == 2
    assert card.locator('[data-f="choose"]').is_visible()
    screenshot(page, "operator-ambiguous")
    card.locator('.contract[data-number="CC-2026-003"] [data-action="pick"]').click()
    assert card.get_attribute("data-contract") == "CC-2026-003"
    assert not card.locator('[data-f="choose"]').is_visible()

    live_server.publish({"kind": "answered", "endpoint": "op1", "linkedid": "600.1",
                         "caller": pop["caller"], "operator": "op1",
                         "at": datetime.now(UTC).isoformat()})  # fmt: skip
    page.wait_for_selector('.pop[data-linkedid="600.1"][data-kind="answered"]')
    live_server.publish({"kind": "ended", "endpoint": "op1", "linkedid": "600.1",
                         "caller": pop["caller"], "operator": "op1",
                         "at": datetime.now(UTC).isoformat()})  # fmt: skip
    page.wait_for_selector('.pop[data-linkedid="600.1"][data-kind="ended"]')
    assert card.locator('[data-f="state"]').inner_text() == "Zakończone"
    screenshot(page, "operator-ended")
    card.locator('[data-action="dismiss"]').click()
    card.wait_for(state="detached")


def test_an_operator_opening_a_manager_page_gets_403_and_a_manager_sees_the_accounts(
    live_server: LiveServer, operator_page: Any, make_user: Callable[..., Account], browser: Any
) -> None:
    answer = operator_page.goto(live_server.url + "/users")
    assert answer is not None and answer.status == 403
    assert "Brak dostępu" in operator_page.content()
    screenshot(operator_page, "operator-forbidden")
    boss = make_user("boss", "manager")
    context = browser.new_context(locale="pl-PL")
    try:
        page = context.new_page()
        login_in_browser(page, live_server, boss)
        assert page.locator("table.list tbody tr").count() == 2
        screenshot(page, "manager-users")
    finally:
        context.close()


def test_the_login_page_looks_right(live_server: LiveServer, browser_page: Any) -> None:
    browser_page.goto(live_server.url + "/")
    browser_page.wait_for_url(live_server.url + "/login")
    screenshot(browser_page, "login")
    assert browser_page.locator('input[name="username"]').is_visible()


def test_the_screen_reconnects_by_itself_and_gets_the_pops_again(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    pop = _ringing_call(live_server.settings.database_url, "700.1", CONTRACT)
    page.evaluate("window.callcenterPops.socket().close()")
    page.wait_for_selector('#link-state[data-state="closed"]')
    screenshot(page, "operator-reconnecting")
    page.wait_for_selector('#link-state[data-state="open"]')  # backoff starts at 0.5 s
    # The call logged while the socket was down is replayed on the new one.
    page.locator('.pop[data-linkedid="700.1"]').wait_for()
    live_server.publish({**pop, "linkedid": "700.2"})
    page.locator('.pop[data-linkedid="700.2"]').wait_for()
