"""`/api/tickets`: the ticket of a call, taken while talking (operators), its clause checks as
the form is filled, one ticket (never its access data), and the audited reveal.

Handlers parse the body, call the desk service (callcenter/desk.py), render. Access data goes
in and is never sent back, except by `POST /api/tickets/{id}/reveal`, which writes the audit
entry (who, when, which ticket) in the same transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from callcenter import desk
from callcenter.domain.tickets import (
    ACCESS_FIELD_MAX,
    CONTRACT_MAX,
    DESCRIPTION_MAX,
    SITE_URL_MAX,
)
from callcenter.pbx.popinfo import contract_summary
from callcenter.secrets import load_key
from callcenter.store import tickets as store
from callcenter.store.tickets import TicketView
from callcenter.ticket_messages import finding_json
from callcenter.web.deps import (
    CurrentOperator,
    CurrentUser,
    SessionDep,
    SettingsDep,
    any_user,
    now,
    operator,
)
from callcenter.web.review_params import ID_MAX, RowId

router = APIRouter(prefix="/api", tags=["tickets"], dependencies=[Depends(operator)])
read_router = APIRouter(prefix="/api", tags=["tickets"], dependencies=[Depends(any_user)])


def _access_field() -> Any:
    return Field("", max_length=ACCESS_FIELD_MAX)


class AccessBody(BaseModel):
    """Clause 4's access data: FTP, database, phpMyAdmin, the admin panel. A secret."""

    model_config = ConfigDict(extra="forbid")
    ftp_host: str = _access_field()
    ftp_login: str = _access_field()
    ftp_password: str = _access_field()
    db_host: str = _access_field()
    db_name: str = _access_field()
    db_login: str = _access_field()
    db_password: str = _access_field()
    pma_url: str = _access_field()
    pma_login: str = _access_field()
    pma_password: str = _access_field()
    admin_url: str = _access_field()
    admin_login: str = _access_field()
    admin_password: str = _access_field()


class TicketBody(BaseModel):
    """The ticket form as filled so far (a draft for the checks; complete to save)."""

    model_config = ConfigDict(extra="forbid")
    contract: str = Field("", max_length=CONTRACT_MAX)
    site_url: str = Field("", max_length=SITE_URL_MAX)
    description: str = Field("", max_length=DESCRIPTION_MAX)
    kind: str = Field("", description="answer, action, general or modification")
    call_id: int | None = Field(
        None, ge=1, le=ID_MAX, description="the call the ticket is taken on"
    )
    access: AccessBody | None = None


def ticket_json(ticket: TicketView) -> dict[str, Any]:
    """A ticket as the API shows it: `has_access_data`, never the data."""
    return {
        "id": ticket.id,
        "status": ticket.status,
        "contract": ticket.contract,
        "kind": ticket.kind.value,
        "received_at": ticket.received_at.isoformat(),
        "answered_at": ticket.answered_at.isoformat() if ticket.answered_at else None,
        "description": ticket.description,
        "site_url": ticket.site_url,
        "other_site": ticket.other_site,
        "call_id": ticket.call_id,
        "operator": ticket.operator,
        "created_at": ticket.created_at.isoformat(),
        "may_skip": ticket.may_skip,
        "findings": [finding_json(f) for f in ticket.findings],
        "has_access_data": ticket.has_access_data,
    }


@router.post("/tickets/checks")
def checks(body: TicketBody, session: SessionDep) -> dict[str, Any]:
    """The clause checks of the form as filled so far; nothing is written."""
    findings = desk.ticket_checks(session, desk.parse_form(body.model_dump()), now())
    return {
        "findings": [finding_json(f) for f in findings],
        "may_skip": any(f.may_skip for f in findings),
    }


@router.post("/tickets", status_code=201)
def save(
    body: TicketBody, session: SessionDep, settings: SettingsDep, user: CurrentOperator
) -> dict[str, Any]:
    """Save the call's ticket: it counts against the contract's allowance at once. The answer
    carries the contract's summary as the screen shows it (the allowance after the save)."""
    form = desk.parse_form(body.model_dump())
    at = now()
    saved = desk.save_ticket(session, form, user.username, at, load_key(settings.secret_key_file))
    contract = saved.ticket.contract
    return {
        "ticket": ticket_json(saved.ticket),
        "findings": [finding_json(f) for f in saved.findings],
        "contract": contract_summary(session, contract, at) if contract else None,
    }


@read_router.get("/tickets/{ticket_id}")
def one(ticket_id: RowId, session: SessionDep) -> dict[str, Any]:
    return ticket_json(store.ticket(session, ticket_id))


@read_router.post("/tickets/{ticket_id}/reveal")
def reveal(
    ticket_id: RowId, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> dict[str, Any]:
    """The ticket's access data, shown on purpose: the audit log records who, when, which."""
    key = load_key(settings.secret_key_file, create=False)
    access = desk.reveal_access_data(session, ticket_id, user.username, now(), key)
    return {
        "ticket": ticket_id,
        "access": {name: access.as_dict()[name] for name in access.filled()},
    }
