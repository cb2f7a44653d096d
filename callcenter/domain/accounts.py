"""Accounts: who may use the desk's screens, and the checks on what they are given."""

from __future__ import annotations

import re
from enum import StrEnum

MIN_PASSWORD = 8
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Role(StrEnum):
    OPERATOR = "operator"
    MANAGER = "manager"


def username_problem(name: str) -> str | None:
    """Why `name` cannot be a username (None if it can): lower-case letters, digits, . _ -."""
    if not _USERNAME.fullmatch(name):
        return "username: 1-64 of a-z 0-9 . _ -, starting with a letter or digit"
    return None


def endpoint_problem(endpoint: str | None, role: Role) -> str | None:
    if endpoint is None:
        return (
            "--endpoint: an operator needs the endpoint of their phone"
            if (role is Role.OPERATOR)
            else None
        )
    if not _ENDPOINT.fullmatch(endpoint):
        return "--endpoint: 1-64 of A-Z a-z 0-9 . _ -"
    return None


def password_problem(password: str, minimum: int = MIN_PASSWORD) -> str | None:
    """Why `password` cannot be an account's (None if it can): at least `minimum`
    characters (the setting CALLCENTER_PASSWORD_MIN_LENGTH, 8 unless set), not blank."""
    if not password.strip():
        return "password: empty"
    if len(password) < minimum:
        return f"password: at least {minimum} characters"
    return None
