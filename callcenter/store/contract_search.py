"""Finding contracts for a manager: by number or customer (a case-insensitive part of it)
and by phone (E.164, exact), a page at a time in number order.

A page starts after the last number shown (keyset on the unique `number`), and reads rows
in that order only until it has a page: the number and customer texts are compared in
Python (`str.casefold`, so `ł` finds `Ł` on SQLite and PostgreSQL alike), the phone in SQL
on its index.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.domain.contracts import Contract
from callcenter.store import repositories as repo
from callcenter.store.models import ContractPhone, ContractRow, Customer

PAGE_MAX = 200
_BATCH = 500


@dataclass(frozen=True)
class ContractQuery:
    """None means any; `phone` is E.164."""

    number: str | None = None
    customer: str | None = None
    phone: str | None = None


def search(
    session: Session, q: ContractQuery, after: str | None = None, limit: int = 50
) -> tuple[list[Contract], str | None]:
    """One page of matching contracts by number, and the number the next page starts after
    (None: this is the last)."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(ContractRow.number, Customer.name).join(
        Customer, Customer.id == ContractRow.customer_id
    )
    if q.phone is not None:
        query = query.join(ContractPhone, ContractPhone.contract_id == ContractRow.id).where(
            ContractPhone.e164 == q.phone
        )
    if after is not None:
        query = query.where(ContractRow.number > after)
    query = query.order_by(ContractRow.number).execution_options(yield_per=_BATCH)
    number = q.number.casefold() if q.number else None
    customer = q.customer.casefold() if q.customer else None
    found: list[str] = []
    result = session.execute(query)
    try:
        for row_number, row_customer in result:
            if number is not None and number not in row_number.casefold():
                continue
            if customer is not None and customer not in row_customer.casefold():
                continue
            found.append(row_number)
            if len(found) > limit:
                break
    finally:
        result.close()
    page = found[:limit]
    contracts = repo.contracts(session, page) if page else []
    return contracts, (page[-1] if len(found) > limit else None)
