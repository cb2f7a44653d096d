"""The operator's desk end to end: `callcenter serve` (routing service, AMI listener and web
app in one process, under libfaketime at 10:00 Warsaw of the working day a call made now
counts on: Asterisk stamps the call's events with the real time, the ticket's day follows
them; the demo contracts moved to that day) with the real local Asterisk, sipp playing the customer, the operator's phone (op1) and, for the callback,
the customer's phone behind the trunk; Debian's Chromium as op1's browser.

A real call rings op1: the pop shows; a reload shows it again; the ticket is filled while
talking (the clause checks follow the typing) with access data and saved: the pop's allowance
changes at once, and the next routing decision for the contract is `limit_reached`. The
secret typed in is then looked for in the database file, the server's log and every API
answer the page received (it is only in the audited reveal's). A callback is returned with
one click: a busy customer keeps it open with the attempt counted, a reached one closes it.

Run under the machine's Asterisk lock: `flock /tmp/cc-asterisk.lock .venv/bin/pytest FILE`."""

from __future__ import annotations

import secrets
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_support import Account, screenshot

from callcenter.demo.prepare import shift_contracts
from callcenter.domain.calendar import Calendar, at_closing
from callcenter.domain.contract_csv import parse_contracts
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import AuditRow, CallbackRow
from tests.integration.asterisk_harness import (
    CallerResult,
    Customer,
    LocalAsterisk,
    Operator,
    run_caller,
)
from tests.integration.services import Service, cli_json

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.browser,
    pytest.mark.timeout(600),
]

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = date(2026, 11, 24)  # the demo contracts as they are suit this day
NUMBER = "+48601234567"  # CC-2026-001 of the demo contracts: phone plan, 2 units a day
CONTRACT = "CC-2026-001"
CUSTOMER = "Zakład Usług Informatycznych Łódź"


@pytest.fixture
def day() -> date:
    """The working day a request received now counts on (today, or the next working day)."""
    return Calendar().received_on(datetime.now(UTC))


@pytest.fixture
def web_db_url(sqlite_url: str, day: date) -> str:
    """The test's SQLite file, migrated, with the demo contracts moved to `day`."""
    engine = db.make_engine(sqlite_url)
    try:
        migrate.upgrade(engine)
        text = (ROOT / "callcenter" / "demo" / "contracts.csv").read_text(encoding="utf-8")
        moved = shift_contracts(text, (day - REFERENCE).days)
        with db.transaction(db.sessions(engine)) as session:
            repo.import_contracts(session, parse_contracts(moved), datetime.now(UTC))
    finally:
        engine.dispose()
    return sqlite_url


@pytest.fixture(scope="module")
def local_asterisk() -> Iterator[LocalAsterisk]:
    asterisk = LocalAsterisk()
    was_running = asterisk.is_running()
    asterisk.start()
    try:
        yield asterisk
    finally:
        if not was_running:
            asterisk.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Desk:
    """`callcenter serve` on the test's database, and what the test reads back."""

    def __init__(self, url: str, workdir: Path, asterisk: LocalAsterisk, day: date) -> None:
        self.url, self.workdir, self.day = url, workdir, day
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "CALLCENTER_DATABASE_URL": url,
            "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk.log_dir),
            "CALLCENTER_SECRET_KEY_FILE": str(workdir / "key" / "secret.key"),
            "CALLCENTER_WEB_HOST": "127.0.0.1",
            "CALLCENTER_WEB_PORT": str(self.port),
        }
        self.log = workdir / "serve.log"
        self.serve = Service(["serve"], self.env, self.log, faketime=f"{day} 10:00:00")
        self.engine = db.make_engine(url)
        self.sessions = db.sessions(self.engine)

    def new_callback(self) -> int:
        """A missed call of the customer who pressed 1 in the queue, due at the end of the
        server's working day."""
        now = datetime.now(UTC)
        due = at_closing(self.day)
        with db.transaction(self.sessions) as session:
            row = CallbackRow(caller_e164=NUMBER, contract=CONTRACT, first_call_at=now,
                              last_call_at=now, calls=1, due_at=due, created_at=now,
                              requested=True)  # fmt: skip
            session.add(row)
            session.flush()
            return row.id

    def reveals(self) -> list[tuple[str, str]]:
        """The audit log's reveals: who, which ticket."""
        query = select(AuditRow).where(AuditRow.action == "ticket.reveal").order_by(AuditRow.id)
        with self.sessions() as session:
            return [(r.actor, r.subject) for r in session.scalars(query)]


@pytest.fixture
def desk(
    local_asterisk: LocalAsterisk,
    web_db_url: str,
    make_user: Callable[..., Account],
    tmp_path: Path,
    day: date,
) -> Iterator[Desk]:
    desk = Desk(web_db_url, tmp_path, local_asterisk, day)
    make_user("op1", "operator", endpoint="op1")
    desk.serve.start("Uvicorn running", timeout=60)
    try:
        desk.serve.wait_for("ami logged in", timeout=60)
        yield desk
    finally:
        desk.serve.stop()
        desk.engine.dispose()


@pytest.fixture
def chromium_page(browser: Any) -> Iterator[Any]:
    """A page of the session's Chromium (tests/web/conftest.py), wider than the default."""
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw",
                                  viewport={"width": 1366, "height": 900})  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


class Caller:
    """The customer's sipp call in a thread of its own (it blocks until the call ends)."""

    def __init__(self) -> None:
        self.result: CallerResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="caller", daemon=True)

    def _run(self) -> None:
        try:
            self.result = run_caller(number=NUMBER, display_name="Jan Kowalski",
                                     hold_seconds=240, timeout=300)  # fmt: skip
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout: float = 60) -> CallerResult:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the caller's sipp did not end"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def keep(into: list[Any]) -> Callable[[Any], None]:
    """A Playwright handler that keeps what it gets (a bound method it cannot take)."""

    def handler(item: Any) -> None:
        into.append(item)

    return handler


def _login(page: Any, desk: Desk) -> None:
    page.goto(desk.base + "/login")
    page.fill('input[name="username"]', "op1")
    page.fill('input[name="password"]', "correct horse battery")
    page.click('button[type="submit"]')
    page.wait_for_url(desk.base + "/")
    page.wait_for_selector('#link-state[data-state="open"]')


def test_a_real_call_a_ticket_with_access_data_and_a_callback_in_one_click(
    desk: Desk, local_asterisk: LocalAsterisk, chromium_page: Any
) -> None:
    page = chromium_page
    secret = "Sekret-" + secrets.token_hex(8)
    callback_id = desk.new_callback()
    _login(page, desk)
    row = page.locator(f'.callback[data-id="{callback_id}"]')
    row.wait_for()
    assert row.locator('[data-f="requested"]').is_visible()
    assert not row.locator('[data-f="overdue"]').is_visible()  # due at the day's end
    screenshot(page, "desk-idle-callbacks")

    caller = Caller()
    with Operator(1, "answer", ring_seconds=3.0) as op1:
        caller.thread.start()
        try:
            card = page.locator(".pop").first
            card.wait_for()
            linkedid = card.get_attribute("data-linkedid")
            assert card.locator('[data-f="customer"]').inner_text() == CUSTOMER
            assert card.locator('[data-f="number"]').inner_text() == CONTRACT
            screenshot(page, "desk-ringing")
            page.wait_for_selector(f'.pop[data-linkedid="{linkedid}"][data-kind="answered"]')
            op1.wait_for_event("ANSWERED", 10)

            # A reload: the call in talk is shown again, with its ticket form.
            responses: list[Any] = []
            frames: list[str] = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
            page.reload()
            page.on("response", keep(responses))  # read below (this page stays loaded)
            page.wait_for_selector('#link-state[data-state="open"]')
            card = page.locator(f'.pop[data-linkedid="{linkedid}"]')
            card.wait_for()
            assert card.get_attribute("data-kind") == "answered"
            assert card.locator('[data-f="customer"]').inner_text() == CUSTOMER
            allowance = card.locator('[data-f="allowance"]')
            assert allowance.inner_text() == "wykorzystano 0 z 2, zostało 2"
            form = card.locator("form.ticket")
            form.wait_for()
            assert form.locator('input[name="contract"]').input_value() == CONTRACT
            assert (
                form.locator('input[name="site_url"]').input_value()
                == "https://zui-lodz.example.pl"
            )
            findings = form.locator('[data-f="findings"]')
            findings.locator('li[data-code="description_missing"]').wait_for()
            form.locator('input[name="kind"][value="action"]').check()
            findings.locator('li[data-code="access_data_missing"]').wait_for()
            form.locator('textarea[name="description"]').fill(
                "Nie można wgrać plików na serwer przez FTP od wczoraj."
            )
            form.locator('input[name="ftp_host"]').fill("ftp.zui-lodz.example.pl")
            findings.locator('li[data-code="access_data_incomplete"]').wait_for()
            form.locator('input[name="ftp_login"]').fill("zui")
            form.locator('input[name="ftp_password"]').fill(secret)
            findings.locator("li.complete").wait_for()
            screenshot(page, "desk-ticket-form")

            form.locator('[data-action="save"]').click()
            saved = card.locator(".ticket-saved")
            saved.wait_for()
            ticket_id = int(saved.locator('[data-f="ticket"]').inner_text().lstrip("#"))
            # The allowance on the pop changed at once: the action took both units.
            assert allowance.inner_text() == "wykorzystano 2 z 2, zostało 0"
            assert f"#{ticket_id}" in card.locator('[data-f="open_tickets"]').inner_text()
            assert page.locator('input[name="ftp_password"]').count() == 0  # the form is gone
            screenshot(page, "desk-ticket-saved")

            # The next routing decision for the contract sees the ticket.
            decision = cli_json(desk.env, "route", NUMBER, "--at", f"{desk.day}T10:30:00")
            assert isinstance(decision, dict)
            assert (decision["route"], decision["reason"]) == ("limit_reached", "action_used")

            # Shown on purpose only, and audited.
            saved.locator('[data-action="reveal"]').click()
            shown = saved.locator('.revealed dd[data-name="ftp_password"]')
            shown.wait_for()
            assert shown.inner_text() == secret
            assert desk.reveals() == [("op1", f"ticket #{ticket_id}")]
            screenshot(page, "desk-ticket-revealed")
            saved.locator('[data-action="reveal"]').click()  # hidden again
            saved.locator(".revealed").wait_for(state="hidden")

            call_id = card.get_attribute("data-call-id")
        finally:
            local_asterisk.cli("channel request hangup all")
        caller.join()
        # Ended with its ticket saved: the pop goes.
        card.wait_for(state="detached")

        # The customer rings again: the routing service (serve's, from its snapshot of the
        # store) has the ticket counted: the limit is reached, no operator is rung.
        again = run_caller(number=NUMBER, display_name="Jan Kowalski", hold_seconds=45,
                           timeout=90).check()  # fmt: skip
        calls = cli_json(desk.env, "calls", "list")
        assert isinstance(calls, list)
        [second] = [c for c in calls if c["linkedid"] != linkedid and c["direction"] == "inbound"]
        assert (second["route"], second["reason"]) == ("limit_reached", "action_used")
        assert second["rings"] == []
        assert again.hung_up_by == "asterisk"  # after the message, not put through

        # The call's log entry shows its ticket.
        entry = page.request.get(f"{desk.base}/api/calls/{call_id}").json()
        assert entry["ticket"]["id"] == ticket_id and entry["linkedid"] == linkedid

        # The secret: only in the audited reveal's answer.
        for url in (f"/api/tickets/{ticket_id}", f"/api/calls/{call_id}", "/api/callbacks",
                    "/api/pops/live", "/api/me", "/openapi.json", "/"):  # fmt: skip
            assert secret not in page.request.get(desk.base + url).text(), url
        api_answers = [r for r in responses if "/api/" in r.url]
        assert any(r.url.endswith("/api/tickets") for r in api_answers)
        assert any(r.url.endswith("/api/tickets/checks") for r in api_answers)
        for response in api_answers:
            body = response.text()
            if response.url.endswith(f"/api/tickets/{ticket_id}/reveal"):
                assert secret in body
            else:
                assert secret not in body, response.url
        assert frames and not any(secret in f for f in frames)
        assert secret not in desk.serve.text()
        assert "ticket saved ticket=" in desk.serve.text()  # the log was written, without it
        database = Path(desk.url.removeprefix("sqlite:///"))
        for path in database.parent.glob(database.name + "*"):
            assert secret.encode() not in path.read_bytes(), path

        # The callback, returned with one click: a busy customer first...
        local_asterisk.cli("dialplan set global CC_CALLBACK_RING 4")
        local_asterisk.cli("dialplan set global CC_CALLBACK_LIMIT 3")
        try:
            row = page.locator(f'.callback[data-id="{callback_id}"]')
            with Customer("busy") as customer:
                row.locator('[data-action="call"]').click()
                customer.wait_for_event("BUSY", 30)
                page.wait_for_selector(
                    f'.callback[data-id="{callback_id}"][data-state="open"] [data-f="attempts"]:text-is("1")'
                )
            assert "zajęte" in row.locator('[data-f="result"]').inner_text()
            assert row.locator('[data-action="call"]').inner_text() == "Oddzwoń ponownie"
            screenshot(page, "desk-callback-busy")
            # ...then one who answers: the callback is closed.
            with Customer("answer", ring_seconds=1.0) as customer:
                row.locator('[data-action="call"]').click()
                customer.wait_for_event("ANSWERED", 30)
                page.wait_for_selector(f'.callback[data-id="{callback_id}"][data-state="done"]')
            assert (
                row.locator('[data-f="result"]').inner_text()
                == "Klient odebrał: oddzwonienie zamknięte."
            )
            screenshot(page, "desk-callback-done")
        finally:
            local_asterisk.cli("dialplan reload")
    attempts = cli_json(desk.env, "callbacks", "list", "--all")
    assert isinstance(attempts, list)
    [done] = [c for c in attempts if c["id"] == callback_id]
    assert done["done"] is not None and done["attempts"] == 2
