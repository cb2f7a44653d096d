"""What an account may be given: a username, an operator's endpoint, a password."""

from __future__ import annotations

from callcenter.domain.accounts import Role, endpoint_problem, password_problem, username_problem


def test_usernames_are_short_lowercase_words() -> None:
    assert username_problem("op1") is None
    assert username_problem("jan.kowalski") is None
    for bad in ("", "Op1", "-op", "a b", "x" * 65, "op1;drop"):
        assert username_problem(bad) is not None, bad


def test_an_operator_needs_an_endpoint_a_manager_does_not() -> None:
    assert endpoint_problem(None, Role.OPERATOR) is not None
    assert endpoint_problem(None, Role.MANAGER) is None
    assert endpoint_problem("op1", Role.OPERATOR) is None
    assert endpoint_problem("op 1", Role.OPERATOR) is not None


def test_passwords_are_not_empty_and_not_short() -> None:
    assert password_problem("") == "password: empty"
    assert password_problem("        ") == "password: empty"
    assert password_problem("short") is not None
    assert password_problem("long enough") is None
    assert password_problem("demo") == "password: at least 8 characters"
    assert password_problem("demo", minimum=4) is None  # the live demo's own accounts
    assert password_problem("dem", minimum=4) == "password: at least 4 characters"
