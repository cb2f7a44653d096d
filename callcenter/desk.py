"""The operator's desk: tickets taken while talking, their access data, callbacks due.

Services for every door (API, pages, CLI): they gather the inputs, call the core
(domain/tickets.py, domain/allowance.py through services.py, domain/callback_list.py) and carry
the result out through the store. None commits: the caller's unit of work does, so a ticket,
its sealed access data, its routing change and its audit entry land together or not at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from callcenter.domain.callback_list import DueCallback, due_item, due_list
from callcenter.domain.contracts import Contract
from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import (
    ACCESS_FIELDS,
    AccessData,
    Finding,
    FindingCode,
    TicketForm,
    check_request,
    too_long,
)
from callcenter.secrets import SecretIntegrityError, SecretKey
from callcenter.services import ContractReport, contract_report
from callcenter.store import callback_list as callback_store
from callcenter.store import repositories as repo
from callcenter.store import tickets as store
from callcenter.store.repositories import NotFoundError
from callcenter.store.tickets import TicketConflictError, TicketView

log = logging.getLogger(__name__)

__all__ = [
    "SavedTicket",
    "TicketConflictError",
    "TicketInputError",
    "callback_due",
    "callbacks_due",
    "parse_form",
    "reveal_access_data",
    "save_ticket",
    "ticket_checks",
]


class TicketInputError(ValueError):
    """Bad input on the ticket form: `field` names the form field, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SavedTicket(NamedTuple):
    ticket: TicketView
    findings: tuple[Finding, ...]
    # The contract's report after the save (today's allowance with this ticket counted);
    # None for a ticket without a contract.
    report: ContractReport | None


_KINDS = ", ".join(k.value for k in TicketKind)
_TEXT_FIELDS = ("contract", "site_url", "description")


def parse_form(values: Mapping[str, object]) -> TicketForm:
    """The form from outside values (a JSON body or form fields), trimmed.

    Known keys: contract, site_url, description, kind, call_id, and the access data fields
    (`ACCESS_FIELDS`, flat or under `access`). An empty kind means not chosen yet. Raises
    TicketInputError naming the field for a value of the wrong type or an unknown kind."""
    access_values: Mapping[str, object] = values
    nested = values.get("access")
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise TicketInputError("access", "must be an object of access data fields")
        unknown = sorted(set(nested) - set(ACCESS_FIELDS))
        if unknown:
            raise TicketInputError("access", f"unknown field {unknown[0]!r}")
        access_values = nested
    text = {name: _text(values, name) for name in _TEXT_FIELDS}
    access = AccessData(**{name: _text(access_values, name) for name in ACCESS_FIELDS})
    return TicketForm(
        contract=text["contract"],
        site_url=text["site_url"],
        description=text["description"],
        kind=_kind(values.get("kind")),
        access=access,
        call_id=_call_id(values.get("call_id")),
    )


def _text(values: Mapping[str, object], name: str) -> str:
    value = values.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TicketInputError(name, "must be text")
    return value.strip()


def _kind(value: object) -> TicketKind | None:
    if value is None or value == "":
        return None
    if isinstance(value, TicketKind):
        return value
    if isinstance(value, str):
        try:
            return TicketKind(value.strip().lower())
        except ValueError:
            pass
    raise TicketInputError("kind", f"unknown kind {value!r} (one of {_KINDS})")


def _call_id(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TicketInputError("call_id", "must be a call's id (a number)")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise TicketInputError("call_id", "must be a call's id (a number)")


def _contract(session: Session, number: str) -> Contract | None:
    if not number:
        return None
    try:
        return repo.contract(session, number)
    except NotFoundError:
        return None


def _received_at(session: Session, form: TicketForm, now: datetime) -> datetime:
    """When the request counts as received: its call's answer (the draft's), else now."""
    if form.call_id is None:
        return now
    draft = store.call_ticket(session, form.call_id)
    if draft is not None:
        return draft.received_at
    try:
        return store.call_answered_at(session, form.call_id)
    except NotFoundError:
        raise TicketInputError("call_id", f"no call #{form.call_id}") from None


def _checks(
    session: Session, form: TicketForm, received_at: datetime
) -> tuple[Contract | None, list[Finding]]:
    contract = _contract(session, form.contract)
    allowance = None
    if contract is not None:
        allowance = contract_report(session, contract.number, received_at).allowance
    return contract, check_request(form, contract, allowance)


def ticket_checks(session: Session, form: TicketForm, now: datetime) -> list[Finding]:
    """The clause checks of the form as filled so far (nothing is written)."""
    try:
        received_at = _received_at(session, form, now)
    except TicketInputError:
        received_at = now  # an unknown call is refused on save; the checks still run
    return _checks(session, form, received_at)[1]


def save_ticket(
    session: Session, form: TicketForm, user: str, now: datetime, key: SecretKey
) -> SavedTicket:
    """Complete the call's draft (or write a new ticket), flagged with its clause checks.

    The ticket counts against its contract's allowance on the day it was received (the
    routing change is noted, so the next routing decision sees it). An `answer` is taken as
    answered now, on the phone; other kinds stay unanswered. Access data is sealed under
    `key`. Raises TicketInputError (naming the field) for input that cannot be saved: no
    kind, an unknown contract or call, a value longer than its field; TicketConflictError
    when the call's ticket was completed before."""
    over = too_long(form)
    if over:
        name, limit = over[0]
        raise TicketInputError(name, f"longer than {limit} characters")
    if form.kind is None:
        raise TicketInputError("kind", f"choose a kind ({_KINDS})")
    received_at = _received_at(session, form, now)
    contract, findings = _checks(session, form, received_at)
    if form.contract and contract is None:
        raise TicketInputError("contract", f"no contract {form.contract!r}")
    values = store.CompletedTicket(
        contract=contract.number if contract else None,
        kind=form.kind,
        site_url=form.site_url,
        description=form.description,
        other_site=any(f.code is FindingCode.OTHER_INSTALLATION for f in findings),
        findings=tuple(findings),
        operator=user,
        call_id=form.call_id,
    )
    answered_at = now if form.kind is TicketKind.ANSWER else None
    ticket_id = store.complete(session, values, received_at, answered_at, now)
    if not form.access.empty:
        plaintext = json.dumps({n: v for n, v in form.access.as_dict().items() if v}).encode()
        store.put_sealed_access_data(
            session, ticket_id, key.seal(plaintext, _associated(ticket_id)), now
        )
    log.info(
        "ticket saved ticket=%s contract=%s kind=%s call=%s findings=%s access_data=%s",
        ticket_id,
        values.contract,
        form.kind.value,
        form.call_id,
        ",".join(f.code.value for f in findings) or "none",
        "yes" if not form.access.empty else "no",
    )
    report = contract_report(session, contract.number, now) if contract else None
    return SavedTicket(store.ticket(session, ticket_id), tuple(findings), report)


def _associated(ticket_id: int) -> bytes:
    """What a sealed value is: a sealed value moved to another ticket does not open."""
    return f"callcenter ticket #{ticket_id} access_data v1".encode()


def reveal_access_data(
    session: Session, ticket_id: int, user: str, now: datetime, key: SecretKey
) -> AccessData:
    """One ticket's access data, decrypted for `user`, with the audit entry of the reveal
    (who, when, which ticket) written in the same unit of work.

    Raises NotFoundError (no ticket, or a ticket without access data), SecretKeyError (the
    key file is not the one the data was sealed with: the message says so in one line) or
    SecretIntegrityError (the stored value was altered)."""
    sealed = store.sealed_access_data(session, ticket_id)
    if sealed is None:
        raise NotFoundError(f"ticket #{ticket_id} has no access data")
    what = f"access data of ticket #{ticket_id}"
    plaintext = key.open(sealed, _associated(ticket_id), what)
    try:
        values = json.loads(plaintext)
        access = AccessData(**{f.name: str(values.get(f.name, "")) for f in fields(AccessData)})
    except (ValueError, AttributeError):
        raise SecretIntegrityError(f"{what} cannot be read: not access data") from None
    store.record_reveal(session, ticket_id, user, now)
    log.info("access data revealed ticket=%s user=%s", ticket_id, user)
    return access


def callbacks_due(
    session: Session, now: datetime, endpoint: str | None = None
) -> list[DueCallback]:
    """Open callbacks by due time, overdue ones marked (an endpoint's, or all with None)."""
    return due_list(callback_store.open_callbacks(session, endpoint), now)


def callback_due(session: Session, callback_id: int, now: datetime) -> DueCallback:
    """One callback (open or done) with its newest attempt; NotFoundError if none."""
    found = callback_store.callback(session, callback_id)
    if found is None:
        raise NotFoundError(f"no callback #{callback_id}")
    return due_item(found, now)
