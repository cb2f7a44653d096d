"""The operator's desk in a real Chromium against the web app alone (pops published into its
hub as the listener would, the call logged in a real SQLite file): the ticket form of an
ambiguous call follows the contract picked, a field the server refuses is named in Polish,
an ended call's pop stays until its ticket is saved, outside text stays text; the callbacks
list marks overdue and asked-for callbacks, keeps them when an older refresh's answer comes
late, shows the result of one closed while its attempt is followed, and "Oddzwoń" says
plainly, in Polish, that the web app alone cannot place calls.
(The same desk with real calls through Asterisk: test_desk_asterisk_browser.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web_support import LiveServer, screenshot

from callcenter.domain.calls import Call, CallState, Outcome, Ring
from callcenter.pbx.popinfo import pop_payloads
from callcenter.store import call_log, db
from callcenter.store.models import CallbackRow, TicketRow

pytestmark = pytest.mark.browser

HOSTILE = 'Strona pokazuje <img src=x onerror="alert(1)"> zamiast logo od rana.'


def _ambiguous_call(url: str, linkedid: str) -> dict[str, Any]:
    """A call answered at op1, logged; its answered pop with two contracts to pick from."""
    now = datetime.now(UTC)
    call = Call(
        linkedid=linkedid, state=CallState.ANSWERED, arrived=now - timedelta(seconds=30),
        caller_raw="605678901", caller_name="Anna <b>Nowak</b>", route="queue",
        reason="ambiguous", queued=now - timedelta(seconds=25),
        answered=now - timedelta(seconds=5), operator="op1",
        rings=(Ring("op1", now - timedelta(seconds=10)),),
    )  # fmt: skip
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            row = call_log.save_calls(session, [call])[linkedid]
            row.contracts = ["CC-2026-004", "CC-2026-005"]  # the routing service's decision
        with db.sessions(engine)() as session:
            info = pop_payloads(session, [call])[linkedid]
    finally:
        engine.dispose()
    assert len(info["contracts"]) == 2 and info["contract"] is None
    return {**info, "kind": "answered", "endpoint": "op1", "linkedid": linkedid,
            "at": now.isoformat(), "caller": call.caller_raw, "caller_name": call.caller_name,
            "operator": "op1"}  # fmt: skip


def _ended(url: str, pop: dict[str, Any]) -> dict[str, Any]:
    """The call ended (as the listener logs it, with the ticket draft it opens); its pop."""
    now = datetime.now(UTC)
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            row = call_log.call_row(session, pop["linkedid"])
            assert row is not None
            call = call_log.load_call(row)
            ended = Call(**{**call.__dict__, "state": CallState.ENDED, "ended": now,
                            "outcome": Outcome.ANSWERED})  # fmt: skip
            call_log.save_calls(session, [ended])
            session.add(TicketRow(status="draft", kind="answer", received_at=call.answered,
                                  call_id=row.id, operator="op1", created_at=now))  # fmt: skip
    finally:
        engine.dispose()
    return {"kind": "ended", "endpoint": "op1", "linkedid": pop["linkedid"],
            "caller": pop["caller"], "operator": "op1", "at": now.isoformat()}  # fmt: skip


def _callbacks(url: str) -> tuple[int, int]:
    now = datetime.now(UTC)
    engine = db.make_engine(url)
    ids = []
    try:
        with db.transaction(db.sessions(engine)) as session:
            for number, due, requested in (("+48221234567", now + timedelta(hours=3), True),
                                           ("+48601234567", now - timedelta(hours=2), False)):  # fmt: skip
                row = CallbackRow(caller_e164=number, contract="CC-2026-001", calls=2,
                                  first_call_at=due - timedelta(days=1), due_at=due,
                                  last_call_at=due - timedelta(hours=20),
                                  created_at=due - timedelta(days=1), requested=requested)  # fmt: skip
                session.add(row)
                session.flush()
                ids.append(row.id)
    finally:
        engine.dispose()
    return ids[0], ids[1]


def test_the_ticket_of_an_ambiguous_call_is_saved_after_it_ended(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    pop = _ambiguous_call(live_server.settings.database_url, "800.1")
    live_server.publish(pop)
    card = page.locator('.pop[data-linkedid="800.1"]')
    form = card.locator("form.ticket")
    form.wait_for()
    findings = form.locator('[data-f="findings"]')
    # No contract until one is picked: clause 4 says so.
    findings.locator('li[data-code="contract_missing"]').wait_for()
    assert form.locator('input[name="contract"]').input_value() == ""
    card.locator('.contract[data-number="CC-2026-005"] [data-action="pick"]').click()
    assert form.locator('input[name="contract"]').input_value() == "CC-2026-005"
    assert form.locator('input[name="site_url"]').input_value() == "https://zrodlo.example.org"
    findings.locator('li[data-code="contract_missing"]').wait_for(state="detached")

    form.locator('textarea[name="description"]').fill(HOSTILE)
    form.locator('[data-action="save"]').click()  # no kind chosen
    error = form.locator('[data-f="error"]')
    error.wait_for()
    assert error.inner_text() == "Wybierz rodzaj zgłoszenia."
    # The checks are those of the form as it is now (the description is there).
    findings.locator('li[data-code="description_missing"]').wait_for(state="detached")
    assert findings.locator('li[data-code="kind_missing"]').count() == 1
    screenshot(page, "desk-ticket-refused")

    live_server.publish(_ended(live_server.settings.database_url, pop))
    page.wait_for_selector('.pop[data-linkedid="800.1"][data-kind="ended"]')
    assert form.is_visible()  # ended, not saved: it stays
    # ...even over a reload (the server replays the calls ended with their ticket unsaved).
    page.reload()
    page.wait_for_selector('#link-state[data-state="open"]')
    page.wait_for_selector('.pop[data-linkedid="800.1"][data-kind="ended"]')
    form.wait_for()
    assert card.locator(".contract").count() == 2
    card.locator('.contract[data-number="CC-2026-005"] [data-action="pick"]').click()
    form.locator('textarea[name="description"]').fill(HOSTILE)
    form.locator('input[name="kind"][value="general"]').check()
    findings.locator('li[data-code="general_question"].may-skip').wait_for()
    assert "może zostać pominięte (pkt 8)" in findings.inner_text()
    assert page.evaluate("document.querySelectorAll('.pop img, .pop b').length") == 0
    form.locator("details.access summary").click()
    form.locator('input[name="admin_url"]').wait_for()
    screenshot(page, "desk-ticket-ended")
    with page.expect_response(lambda r: r.url.endswith("/api/tickets")) as saving:
        form.locator('[data-action="save"]').click()
    assert saving.value.status == 201
    ticket = saving.value.json()["ticket"]
    card.wait_for(state="detached")  # saved: the ended call's pop goes
    stored = page.request.get(f"{live_server.url}/api/tickets/{ticket['id']}").json()
    assert (stored["description"], stored["contract"], stored["kind"]) == (
        HOSTILE, "CC-2026-005", "general")  # fmt: skip
    assert stored["may_skip"] is True and stored["has_access_data"] is False


def test_the_callbacks_list_marks_overdue_and_asked_for_and_explains_a_missing_ami(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    requested, overdue = _callbacks(live_server.settings.database_url)
    page.evaluate("window.callcenterCallbacks.refresh()")
    rows = page.locator(".callback")
    page.locator(f'.callback[data-id="{requested}"]').wait_for()
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [
        str(overdue), str(requested)]  # fmt: skip
    late = page.locator(f'.callback[data-id="{overdue}"]')
    asked = page.locator(f'.callback[data-id="{requested}"]')
    assert late.locator('[data-f="overdue"]').is_visible()
    assert not late.locator('[data-f="requested"]').is_visible()
    assert asked.locator('[data-f="requested"]').is_visible()
    assert not asked.locator('[data-f="overdue"]').is_visible()
    assert asked.locator('[data-f="calls"]').inner_text() == "2"
    screenshot(page, "desk-callbacks")
    asked.locator('[data-action="call"]').click()
    result = asked.locator('[data-f="result"]')
    result.locator("text=Oddzwanianie niedostępne").wait_for()
    assert asked.get_attribute("data-state") == "open"
    assert asked.locator('[data-action="call"]').is_enabled()


def _until_routed(page: Any, routed: list[Any], what: str) -> None:
    """Wait until a route handler has run (it fills `routed`): Playwright runs handlers only
    while this thread is inside one of its calls, so the wait is one of them."""
    for _ in range(200):
        if routed:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{what} never came (10 s)")


def test_an_older_answer_coming_late_does_not_take_new_callbacks_off_the_list(
    live_server: LiveServer, operator_page: Any
) -> None:
    # A poll and a refresh after a call may overlap, and their answers come back out of
    # order: here the first refresh's answer (no callbacks yet) is held back until the
    # second's (with two new callbacks) is on the list.
    page = operator_page
    page.locator('#callbacks-state[data-state="empty"]').wait_for()  # the page's own load
    held: list[tuple[Any, Any]] = []

    def hold_the_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # answered now, kept back

    page.route("**/api/callbacks", hold_the_first)
    page.evaluate("window.olderRefresh = window.callcenterCallbacks.refresh(); 0")
    _until_routed(page, held, "the first refresh's request")
    requested, overdue = _callbacks(live_server.settings.database_url)
    page.evaluate("window.callcenterCallbacks.refresh()")
    page.locator(f'.callback[data-id="{requested}"]').wait_for()
    route, older = held[0]
    route.fulfill(response=older)
    page.evaluate("window.olderRefresh")  # that refresh has taken its answer
    rows = page.locator(".callback")
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [
        str(overdue), str(requested)]  # fmt: skip
    assert page.locator("#callbacks-state").get_attribute("data-state") == "ready"


def test_a_callback_closed_while_its_attempt_is_followed_shows_its_result(
    live_server: LiveServer, operator_page: Any
) -> None:
    # The customer answered: the listener closes the callback, and the list's refresh after
    # the call (the callback no longer open) may come before the row's own poll sees it
    # done. The row stays and shows the result. Asterisk's part is played by routes: the
    # attempt accepted (202), the row's polls "under way" until the callback is closed.
    page = operator_page
    url = live_server.settings.database_url
    requested, _ = _callbacks(url)
    page.evaluate("window.callcenterCallbacks.refresh()")
    row = page.locator(f'.callback[data-id="{requested}"]')
    row.wait_for()
    closed = False
    polls: list[int] = []

    def under_way_until_closed(route: Any) -> None:
        polls.append(1)
        if closed:
            route.continue_()
            return
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "under_way": True})

    page.route(f"**/api/callbacks/{requested}/call", lambda r: r.fulfill(status=202, json={}))
    page.route(f"**/api/callbacks/{requested}", under_way_until_closed)
    row.locator('[data-action="call"]').click()
    page.locator(f'.callback[data-id="{requested}"][data-state="calling"]').wait_for()
    _until_routed(page, polls, "the attempt followed (its first poll)")
    engine = db.make_engine(url)
    try:
        with db.transaction(db.sessions(engine)) as session:
            callback = session.get(CallbackRow, requested)
            assert callback is not None
            callback.done_at = datetime.now(UTC)
    finally:
        engine.dispose()
    page.evaluate("window.callcenterCallbacks.refresh()")  # the list without it
    closed = True
    page.locator(f'.callback[data-id="{requested}"][data-state="done"]').wait_for()
    assert row.locator('[data-f="result"]').inner_text() == "Zamknięte."


def test_a_dismissed_ended_call_is_not_shown_again_after_a_reload(
    live_server: LiveServer, operator_page: Any
) -> None:
    page = operator_page
    pop = _ambiguous_call(live_server.settings.database_url, "810.1")
    live_server.publish(pop)
    card = page.locator('.pop[data-linkedid="810.1"]')
    card.locator("form.ticket").wait_for()
    live_server.publish(_ended(live_server.settings.database_url, pop))
    page.wait_for_selector('.pop[data-linkedid="810.1"][data-kind="ended"]')
    card.locator('[data-action="dismiss"]').click()
    card.wait_for(state="detached")
    later = _ambiguous_call(live_server.settings.database_url, "810.2")
    page.reload()
    page.wait_for_selector('#link-state[data-state="open"]')
    page.locator('.pop[data-linkedid="810.2"]').wait_for()  # the replay came...
    assert card.count() == 0  # ...without the dismissed call
    assert later["linkedid"] == "810.2"
