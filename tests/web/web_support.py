"""Helpers of the web tests (the fixtures are in conftest.py): accounts, the live server's
handle, logging in by form, token or browser, screenshots."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from callcenter.config import Settings
from callcenter.pbx.pops import PopHub

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    endpoint: str | None


@dataclass
class LiveServer:
    """The web app served by uvicorn in a thread of its own (its own event loop)."""

    url: str
    settings: Settings
    hub: PopHub
    loop: asyncio.AbstractEventLoop

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/pops"

    def publish(self, pop: dict[str, Any]) -> None:
        """Publish a pop into the server's hub, as the listener would."""
        self.loop.call_soon_threadsafe(self.hub.publish, pop)

    def subscribers(self, endpoint: str) -> int:
        return len(self.hub._subscribers.get(endpoint, ()))

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_cookie(http: httpx.Client, account: Account) -> str:
    """Log in through the /login form; the session's CSRF token (for form posts)."""
    form = http.get("/login")
    login_csrf = _CSRF.search(form.text)
    assert login_csrf, form.text
    done = http.post(
        "/login",
        data={"username": account.username, "password": account.password,
              "csrf_token": login_csrf.group(1)},
    )  # fmt: skip
    assert done.status_code == 303, done.text
    home = http.get(done.headers["location"])
    assert home.status_code == 200, home.text
    found = _CSRF.search(home.text)
    assert found, home.text
    return found.group(1)


def bearer(http: httpx.Client, account: Account) -> str:
    answer = http.post("/api/token", data={"username": account.username,
                                           "password": account.password})  # fmt: skip
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def login_in_browser(page: Any, server: LiveServer, account: Account) -> None:
    page.goto(server.url + "/login")
    page.fill('input[name="username"]', account.username)
    page.fill('input[name="password"]', account.password)
    page.click('button[type="submit"]')
    page.wait_for_url(server.url + ("/" if account.role == "operator" else "/users"))


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
