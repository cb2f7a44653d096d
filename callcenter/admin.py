"""The admin of the terms, for the web app's manager pages and their API twins: finding
contracts and a contract's page, the contract CSV import, closures, consolidations and
accounts. Each gathers inputs, calls the core and the store; the store writes the audit
entry of each change in the same unit of work. Bad input raises `AdminInputError` naming
the field (a code for the Polish page, a message for the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from callcenter import accounts, services
from callcenter.domain.accounts import Role, endpoint_problem, password_problem, username_problem
from callcenter.domain.allowance import Allowance, Consolidation, consolidation_refusal
from callcenter.domain.calendar import Closure
from callcenter.domain.contract_csv import decode_csv, parse_contracts
from callcenter.domain.contracts import Contract
from callcenter.domain.dates import date_problem
from callcenter.domain.phone import normalise
from callcenter.domain.usage import usage_by_day
from callcenter.store import call_queries, contract_search
from callcenter.store import repositories as repo
from callcenter.store import users as user_store
from callcenter.store.contract_import import ImportResult
from callcenter.store.models import CallRow
from callcenter.store.users import User, UserExistsError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a contract CSV larger than this is refused unread
RECENT_CALLS = 10
MAX_NOTE = 2000


class AdminInputError(ValueError):
    """A field a manager sent is wrong: `field`, a `code` (words.ADMIN_ERRORS), a message."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


# --- contracts ---------------------------------------------------------------------------


def search_contracts(
    session: Session,
    number: str | None,
    phone: str | None,
    customer: str | None,
    after: str | None,
    region: str,
    limit: int = 50,
) -> tuple[list[Contract], str | None]:
    """A page of contracts matching every given part; a phone in any common form."""
    e164 = None
    if phone:
        e164 = normalise(phone, region).e164
        if e164 is None:
            raise AdminInputError("phone", "phone", "not a phone number this region can dial")
    query = contract_search.ContractQuery(number=number or None, customer=customer or None,
                                          phone=e164)  # fmt: skip
    return contract_search.search(session, query, after, limit)


@dataclass(frozen=True)
class ContractPage:
    report: services.ContractReport
    usage: list[Allowance]
    calls: list[CallRow]


def contract_page(session: Session, number: str, now: datetime) -> ContractPage:
    """A contract as `contracts show` reports it, its allowance day by day, its last calls
    (NotFoundError if there is no such contract)."""
    report = services.contract_report(session, number, now)
    cal = services.calendar(session)
    usage = usage_by_day(report.contract, cal, repo.requests(session, [number]),
                         repo.consolidations(session, [number]))  # fmt: skip
    calls, _ = call_queries.page(
        session, call_queries.CallFilter(contract=number), None, RECENT_CALLS
    )
    return ContractPage(report=report, usage=usage, calls=calls)


def import_contracts(
    session: Session, data: bytes, region: str, now: datetime, actor: str
) -> ImportResult:
    """The CLI's import of a contract CSV: every row or none (CsvError names each bad line);
    each created or changed contract audited with its values before and after."""
    contracts = parse_contracts(decode_csv(data), region)
    return repo.import_contracts(session, contracts, now, actor)


# --- closures and consolidations ---------------------------------------------------------


def parse_day(field: str, text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise AdminInputError(field, "date", f"{field}: not a date (YYYY-MM-DD)") from None
    if problem := date_problem(day):
        raise AdminInputError(field, "date_range", f"{field}: {problem}")
    return day


def _note(note: str) -> str:
    if len(note) > MAX_NOTE:
        raise AdminInputError("note", "note", f"note: at most {MAX_NOTE} characters")
    return note.strip()


def add_closure(
    session: Session, first: date, last: date, note: str, now: datetime, actor: str
) -> Closure:
    if last < first:
        raise AdminInputError("to", "closure_order", "to: the closure ends before it starts")
    return repo.add_closure(session, Closure(first, last, _note(note)), now, actor)


def grant_consolidation(
    session: Session, contract: str, day: date, days: int, note: str, now: datetime, actor: str
) -> Consolidation:
    """Clause 7: DAY gets DAYS working days' allowance; refused by the core's rules."""
    if not 2 <= days <= 260:
        raise AdminInputError("days", "days", "days: a whole number from 2 to 260")
    repo.contract(session, contract)  # NotFoundError: no such contract
    grant = Consolidation(contract, day, days)
    existing = repo.consolidations(session, [contract])
    cal = services.calendar(session)
    refusal = consolidation_refusal(grant, cal, existing)
    if refusal is not None:
        code = "consolidated_day" if cal.is_working_day(day) else "not_working_day"
        raise AdminInputError("day", code, f"day: {refusal}")
    return repo.add_consolidation(session, grant, now, _note(note), actor)


# --- accounts ----------------------------------------------------------------------------


def add_user(
    session: Session,
    username: str,
    role: str,
    endpoint: str | None,
    password: str,
    min_length: int,
    now: datetime,
    actor: str,
) -> User:
    """An account, checked as `users add` checks it (the password's rules from settings)."""
    try:
        chosen = Role(role)
    except ValueError:
        raise AdminInputError("role", "role", "role: operator or manager") from None
    if username_problem(username):
        raise AdminInputError("username", "username", str(username_problem(username)))
    endpoint = endpoint or None
    if problem := endpoint_problem(endpoint, chosen):
        raise AdminInputError("endpoint", "endpoint", problem.removeprefix("--"))
    if problem := password_problem(password, min_length):
        raise AdminInputError("password", "password", problem)
    try:
        return accounts.add_user(session, username, chosen, endpoint, password, now, actor)
    except UserExistsError as exc:
        raise AdminInputError("username", "user_exists", str(exc)) from None


def disable_user(session: Session, username: str, now: datetime, actor: str) -> User:
    if username == actor:
        raise AdminInputError("username", "disable_self", "username: not your own account")
    return user_store.disable_user(session, username, now, actor)
