"""A login attempt, the same for the login page and `POST /api/token`: throttled per
account and per address, checked against the argon2 hash, a session opened."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from callcenter import accounts
from callcenter.accounts import Login
from callcenter.config import Settings
from callcenter.web.throttle import LoginThrottle

log = logging.getLogger(__name__)


class ThrottledError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


class BadCredentialsError(Exception):
    """Unknown user, wrong password or disabled account (the client is not told which)."""


def attempt(
    session: Session,
    throttle: LoginThrottle,
    settings: Settings,
    username: str,
    password: str,
    address: str,
    kind: str,
    now: datetime,
) -> Login:
    wait = throttle.retry_after(username, address, now)
    if wait is not None:
        log.warning("login throttled user=%r address=%s retry_after=%d", username, address, wait)
        raise ThrottledError(wait)
    user = accounts.check_password(session, username, password, now)
    if user is None:
        throttle.failed(username, address, now)
        log.warning("login failed user=%r address=%s kind=%s", username, address, kind)
        raise BadCredentialsError()
    throttle.succeeded(username)
    log.info("login user=%s role=%s kind=%s", user.username, user.role, kind)
    return accounts.open_login(session, user, kind, now, settings)
