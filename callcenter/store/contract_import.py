"""Saving a contract file: new contracts created, changed ones updated, equal ones left alone.

A chunk at a time: one read of the chunk's stored contracts (with their customer and phones),
then one statement per kind of write for the whole chunk (customers, contracts, updates,
phones, audit entries), never a statement per row. The statements are compiled once and run
by the driver (store/bulk.py), each value put through its column's own bind processing
(what SQLAlchemy does per row, at a fraction of its cost): 100,000 contracts in a few
seconds, where the ORM's unit of work took minutes (bench/contract_import.py). A file's contract is
compared with the stored one in the stored form (its values as they would be written), so an
equal contract is left alone. The caller's transaction makes it all or nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from callcenter.domain.audit import contract_change
from callcenter.domain.contracts import Contract
from callcenter.store import audit
from callcenter.store.bulk import IN, Bulk
from callcenter.store.models import AuditRow, ContractPhone, ContractRow, Customer

MEMO = 10_000  # processed values kept
CHUNK = 1000  # contracts per read and per set of writes (and per step of the progress)
CONTRACTS: Table = ContractRow.__table__  # type: ignore[assignment]


class Piece(NamedTuple):
    """Contracts to save, with what their audit entries say if they are new (each one's
    `new_contract_document`), when that was made beforehand (contract_file.py: by the
    process that checks the file); None: made here."""

    contracts: Sequence[Contract]
    documents: Sequence[str] | None = None


def new_contract_document(contract: Contract) -> str:
    """The `after` of a new contract's audit entry: all its values."""
    _, after = contract_change(None, contract)
    return audit.dumped(after) or "{}"


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


# The columns a contract file sets, in the order of _values.
FIELDS = (
    "plan",
    "billing",
    "paid_from",
    "paid_until",
    "product",
    "site_url",
    "email",
    "accepted_at",
    "daily_units",
)


def _values(contract: Contract) -> tuple[Any, ...]:
    """The contract's values for FIELDS (domain -> row: the one mapping for a file's row)."""
    return (
        contract.plan.value,
        contract.billing.value,
        contract.paid_from,
        contract.paid_until,
        contract.product.value,
        contract.site_url,
        contract.email,
        contract.accepted_at,
        contract.daily_units,
    )


class _Driver(Bulk):
    """The connection's bulk statements, and a contract's values as its columns' bind
    processing gives them (what SQLAlchemy does per row, done here once per value)."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        processors = [
            CONTRACTS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in FIELDS
        ]
        self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        # A file's dates repeat (a billing period's first and last day): each distinct value
        # is processed once.
        self.memo: dict[Any, Any] = {}
        self.moment = CONTRACTS.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)

    def stored(self, contract: Contract) -> tuple[Any, ...]:
        """The contract's FIELDS as the driver writes and reads them."""
        values = list(_values(contract))
        memo = self.memo
        for i, process in self.processors:
            key = (i, values[i])
            found = memo.get(key, memo)
            if found is memo:
                if len(memo) > MEMO:
                    memo.clear()
                found = memo[key] = process(values[i])
            values[i] = found
        return tuple(values)

    def at(self, now: datetime) -> Any:
        """A moment as the driver writes it (updated_at, and the audit's `at`: both UTC)."""
        return now if self.moment is None else self.moment(now)


@dataclass(frozen=True)
class _Stored:
    id: int
    customer: str
    values: tuple[Any, ...]  # FIELDS as the driver reads them
    phones: tuple[str, ...]


def save_contracts(
    session: Session,
    pieces: Iterable[Piece],
    now: datetime,
    actor: str,
    progress: Callable[[int], None] | None = None,
    stored: Callable[[list[str]], dict[str, Contract]] | None = None,
) -> ImportResult:
    """Write the contracts (see the module docstring), given in pieces as they come (each
    written CHUNK at a time); `progress` is told how many contracts each chunk held once it
    is written; `stored` reads the changed contracts as they were, for their audit entries'
    values before. Raises ValueError if a number comes twice (the caller's transaction then
    drops what was written)."""
    session.flush()  # what the session holds goes first; this works below the ORM
    driver = _Driver(session.connection())
    with driver.index_lookups():
        created, updated, total = _save(driver, pieces, now, actor, progress, stored)
    session.expire_all()  # a contract the session had loaded is read again
    return ImportResult(created, updated, total - created - updated)


def _save(
    driver: _Driver,
    pieces: Iterable[Piece],
    now: datetime,
    actor: str,
    progress: Callable[[int], None] | None,
    stored: Callable[[list[str]], dict[str, Contract]] | None,
) -> tuple[int, int, int]:
    """save_contracts' work: how many contracts it created, updated and was given."""
    seen: set[str] = set()
    customers: dict[str, int] = {}
    created = updated = total = 0
    for piece in pieces:
        for start in range(0, len(piece.contracts), CHUNK):
            chunk = piece.contracts[start : start + CHUNK]
            for contract in chunk:
                if contract.number in seen:
                    raise ValueError(f"contract {contract.number!r} given twice")
                seen.add(contract.number)
            new, changed = _diff(driver, chunk)
            if new or changed:
                old = stored([c.number for c, _ in changed]) if stored and changed else {}
                ids = _customers(driver, [*new, *(c for c, _ in changed)], customers)
                _create(driver, new, ids, now)
                _update(driver, changed, ids, now)
                made = piece.documents
                documents: dict[str, str] = {}
                if made is not None:
                    numbers = (c.number for c in chunk)
                    documents = dict(zip(numbers, made[start : start + CHUNK], strict=True))
                changes = [(c, old.get(c.number)) for c, _ in changed]
                _audit(driver, new, documents, changes, now, actor)
            created += len(new)
            updated += len(changed)
            total += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return created, updated, total


def _diff(
    driver: _Driver, chunk: Sequence[Contract]
) -> tuple[list[Contract], list[tuple[Contract, _Stored]]]:
    """The chunk's new contracts, and its changed ones with what is stored."""
    stored = _stored(driver, [c.number for c in chunk])
    new: list[Contract] = []
    changed: list[tuple[Contract, _Stored]] = []
    for contract in chunk:
        row = stored.get(contract.number)
        if row is None:
            new.append(contract)
        elif (
            row.values != driver.stored(contract)
            or row.customer != contract.customer
            or row.phones != contract.phones
        ):
            changed.append((contract, row))
    return new, changed


def _stored(driver: _Driver, numbers: list[str]) -> dict[str, _Stored]:
    """The stored contracts among `numbers`, their FIELDS as the driver gives them."""
    rows = driver.rows(
        "stored",
        select(
            ContractRow.id,
            ContractRow.number,
            Customer.name,
            *(CONTRACTS.c[name] for name in FIELDS),
        )
        .join(Customer, Customer.id == ContractRow.customer_id)
        .where(ContractRow.number.in_(IN)),
        numbers,
    )
    phones: dict[int, list[str]] = defaultdict(list)
    for contract_id, e164 in driver.rows(
        "stored phones",
        select(ContractPhone.contract_id, ContractPhone.e164)
        .where(ContractPhone.contract_id.in_(IN))
        .order_by(ContractPhone.contract_id, ContractPhone.position),
        [row[0] for row in rows],
    ):
        phones[contract_id].append(e164)
    return {
        row[1]: _Stored(row[0], row[2], tuple(row[3:]), tuple(phones.get(row[0], ())))
        for row in rows
    }


def _customers(
    driver: _Driver, contracts: Iterable[Contract], known: dict[str, int]
) -> dict[str, int]:
    """Each named customer's id (`known` grows): found, or created."""
    wanted = sorted({c.customer for c in contracts} - known.keys())
    if wanted:
        known.update(_customer_ids(driver, wanted))
        missing = [name for name in wanted if name not in known]
        if missing:
            known.update(driver.inserted(Customer, ["name"], [(n,) for n in missing], "name"))
    return known


def _customer_ids(driver: _Driver, names: list[str]) -> dict[str, int]:
    query = select(Customer.name, Customer.id).where(Customer.name.in_(IN))
    return {name: id_ for name, id_ in driver.rows("customer ids", query, names)}


# A contract row's values in this order: the file's FIELDS, then what the import sets.
_SET = (*FIELDS, "customer_id", "accepted_via", "updated_at")


def _row(driver: _Driver, contract: Contract, customer_id: int, at: Any) -> tuple[Any, ...]:
    return (*driver.stored(contract), customer_id, "order", at)


def _create(driver: _Driver, new: list[Contract], customers: dict[str, int], now: datetime) -> None:
    if not new:
        return
    at = driver.at(now)
    keys = ("number", *_SET)
    ids = driver.inserted(
        ContractRow,
        keys,
        [(c.number, *_row(driver, c, customers[c.customer], at)) for c in new],
        "number",
    )
    _phones(driver, [(ids[c.number], c.phones) for c in new])


def _update(
    driver: _Driver,
    changed: list[tuple[Contract, _Stored]],
    customers: dict[str, int],
    now: datetime,
) -> None:
    if not changed:
        return
    at = driver.at(now)
    keys = (*_SET, "key")
    driver.many(
        "update",
        update(ContractRow)
        .where(ContractRow.id == bindparam("key"))
        .values({name: bindparam(name) for name in _SET}),
        keys,
        [(*_row(driver, c, customers[c.customer], at), row.id) for c, row in changed],
    )
    replaced = [(row.id, c.phones) for c, row in changed if row.phones != c.phones]
    if replaced:
        driver.connection.execute(
            delete(ContractPhone).where(ContractPhone.contract_id.in_([i for i, _ in replaced]))
        )
        _phones(driver, replaced)


_PHONE_KEYS = ("contract_id", "e164", "position")
_AUDIT_KEYS = ("at", "actor", "action", "subject", "detail", "before", "after")


def _phones(driver: _Driver, phones: list[tuple[int, tuple[str, ...]]]) -> None:
    driver.insert(
        ContractPhone,
        _PHONE_KEYS,
        [
            (contract_id, e164, position)
            for contract_id, numbers in phones
            for position, e164 in enumerate(numbers)
        ],
    )


def _audit(
    driver: _Driver,
    new: list[Contract],
    documents: dict[str, str],
    changed: list[tuple[Contract, Contract | None]],
    now: datetime,
    actor: str,
) -> None:
    """One entry per new or changed contract, with its values (domain/audit.contract_change:
    all of a new one's, the changed fields of a changed one, before and after); a new one's
    from `documents` (by number) when made there."""
    when = driver.at(now)  # a UTCDateTime like updated_at
    rows: list[tuple[Any, ...]] = []
    for contract in new:
        after = documents.get(contract.number) or new_contract_document(contract)
        rows.append((when, actor, "contract.create", contract.number[:200], "", None, after))
    for contract, old in changed:
        before, after_values = contract_change(old, contract)
        rows.append(
            (
                when,
                actor,
                "contract.update",
                contract.number[:200],
                "",
                audit.dumped(before),
                audit.dumped(after_values),
            )
        )
    driver.insert(AuditRow, _AUDIT_KEYS, rows)
