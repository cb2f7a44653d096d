"""Web fixtures, for this folder and any test of the web app: a migrated database, users,
a real uvicorn server on an ephemeral loopback port (its pop hub reachable from the test),
httpx clients logged in by cookie or bearer token, and a logged-in Chromium page.

    def test_x(live_server, make_user):
        op = make_user("op1", "operator", endpoint="op1")
        with live_server.client() as http:
            csrf = login_cookie(http, op)
        ...
    def test_y(live_server, operator_page):   # Playwright page logged in as operator op1
        live_server.publish({...})
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from web_support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Account, LiveServer, login_in_browser

from callcenter import accounts
from callcenter.config import Settings
from callcenter.domain.accounts import Role
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.pops import PopHub
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.web.server import run_web

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web_db_url(sqlite_url: str) -> str:
    """The web tests' database: a real SQLite file, migrated, the demo contracts in it.
    (Override it, e.g. with `postgres_url`, to run them on PostgreSQL.)"""
    return prepare_db(sqlite_url)


def prepare_db(url: str) -> str:
    engine = db.make_engine(url)
    try:
        migrate.upgrade(engine)
        text = (ROOT / "callcenter" / "demo" / "contracts.csv").read_text(encoding="utf-8")
        with db.transaction(db.sessions(engine)) as session:
            repo.import_contracts(session, parse_contracts(text), datetime.now(UTC))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def make_user(web_db_url: str) -> Iterator[Callable[..., Account]]:
    """make_user(name, role, endpoint=None, password=PASSWORD) -> Account, in the store."""
    engine = db.make_engine(web_db_url)

    def make(
        name: str, role: str, endpoint: str | None = None, password: str = PASSWORD
    ) -> Account:
        with db.transaction(db.sessions(engine)) as session:
            accounts.add_user(session, name, Role(role), endpoint, password, datetime.now(UTC))
        return Account(name, password, role, endpoint)

    yield make
    engine.dispose()


@pytest.fixture
def secret_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the live server keeps the key of tickets' access data (made on first use)."""
    return tmp_path_factory.mktemp("key") / "secret.key"


@pytest.fixture
def live_server(web_db_url: str, secret_key_file: Path) -> Iterator[LiveServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        database_url=web_db_url, web_host="127.0.0.1", web_port=port, web_ws_recheck_s=0.2,
        secret_key_file=str(secret_key_file),
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        stop, started = asyncio.Event(), asyncio.Event()
        state["stop"], state["hub"] = stop, PopHub()
        task = asyncio.create_task(run_web(settings, stop, state["hub"], [sock], started))
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        ready.set()
        await task

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="web-server", daemon=True)
    thread.start()
    assert ready.wait(30), "web server did not start"
    if "error" in state:
        raise state["error"]
    server = LiveServer(f"http://127.0.0.1:{port}", settings, state["hub"], loop)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        loop.close()
        sock.close()


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API keeps an event loop running on
    this thread while it is started, so it stops after each module and the asyncio tests of
    later modules (in any order of the files) get a thread without a running loop."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw",
                                  viewport={"width": 1280, "height": 900})  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def operator_account(make_user: Callable[..., Account]) -> Account:
    return make_user("op1", "operator", endpoint="op1")


@pytest.fixture
def operator_page(live_server: LiveServer, operator_account: Account, browser_page: Any) -> Any:
    """A Chromium page logged in as operator op1 (endpoint op1), its pop socket open."""
    login_in_browser(browser_page, live_server, operator_account)
    browser_page.wait_for_selector('#link-state[data-state="open"]')
    return browser_page
