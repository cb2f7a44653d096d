"""`callcenter users`: the accounts of the web app (operators and managers)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from callcenter import accounts
from callcenter.cli_common import JsonFlag, UserError, _now, _print_json, _unit_of_work
from callcenter.config import Settings
from callcenter.display import visible
from callcenter.domain.accounts import Role, endpoint_problem, password_problem, username_problem
from callcenter.render import user_json
from callcenter.store import users as store
from callcenter.store.users import UserExistsError

users_app = typer.Typer(help="Accounts of the web app.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


def _read_password() -> str:
    """Prompted twice on a terminal; else the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name (a-z 0-9 . _ -).")],
    role: Annotated[Role, typer.Option(help="operator or manager.")],
    endpoint: Annotated[
        str | None, typer.Option(help="The operator's phone endpoint (e.g. op1).")
    ] = None,
) -> None:
    """Add an account; the password is prompted (or read from standard input)."""
    problem = username_problem(name) or endpoint_problem(endpoint, role)
    if problem:
        raise UserError(problem)
    password = _read_password()
    problem = password_problem(password, Settings.from_env().password_min_length)
    if problem:
        raise UserError(problem)
    try:
        with _unit_of_work() as session:
            user = accounts.add_user(session, name, role, endpoint, password, _now())
    except UserExistsError as exc:
        raise UserError(str(exc)) from None
    out.print(f"user {user.username} added ({user.role.value})")


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """Every account, by name."""
    with _unit_of_work() as session:
        items = [user_json(u) for u in store.users(session)]
    if as_json:
        _print_json(items)
        return
    for u in items:
        state = f"disabled {u['disabled_at']}" if u["disabled_at"] else "active"
        name, endpoint = visible(u["username"]), visible(u["endpoint"] or "-")
        out.print(f"{name:<20} {u['role']:<9} {endpoint:<8} {state}")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable an account: it cannot log in, and its sessions and tokens end now."""
    with _unit_of_work() as session:
        store.disable_user(session, name, _now())
    out.print(f"user {visible(name)} disabled")
