"""Saving a contract file: new contracts created, changed ones updated, equal ones left alone.

A chunk at a time: one read of the chunk's stored contracts (with their customer and phones),
then one statement per kind of write for the whole chunk (customers, contracts, updates,
phones, audit entries), never a statement per row. The statements are compiled once and run
by the driver (SQLite: executemany; PostgreSQL: COPY), each value put through its column's
own bind processing (what SQLAlchemy does per row, at a fraction of its cost): 100,000
contracts in a few seconds,
where the ORM's unit of work took minutes (bench/contract_import.py). A file's contract is
compared with the stored one in the stored form (its values as they would be written), so an
equal contract is left alone. The caller's transaction makes it all or nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ClauseElement

from callcenter.domain.audit import contract_change
from callcenter.domain.contracts import Contract
from callcenter.store import audit
from callcenter.store.models import AuditRow, ContractPhone, ContractRow, Customer

MEMO = 10_000  # processed values kept
CHUNK = 1000  # contracts per read and per set of writes (and per step of the progress)
CONTRACTS: Table = ContractRow.__table__  # type: ignore[assignment]


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


class _Driver:
    """Statements for one connection's dialect, compiled once and run by the driver's
    executemany; values go through their columns' bind processing here."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        dialect = connection.dialect
        processors = [
            CONTRACTS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in FIELDS
        ]
        self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        # A file's dates repeat (a billing period's first and last day): each distinct value
        # is processed once.
        self.memo: dict[Any, Any] = {}
        self.moment = CONTRACTS.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.compiled: dict[str, tuple[str, list[str] | None]] = {}
        self.marks: dict[int, str] = {}

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

    def many(
        self, name: str, statement: ClauseElement, keys: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Run `statement` once per row; each row holds the values of `keys` in order."""
        if not rows:
            return
        if name not in self.compiled:
            compiled: Any = statement.compile(dialect=self.connection.dialect)
            order = list(compiled.positiontup or ()) if compiled.positional else None
            self.compiled[name] = (str(compiled), order)
        sql, order = self.compiled[name]
        params: list[Any]
        if order is None:  # named parameters
            params = [dict(zip(keys, row, strict=True)) for row in rows]
        elif order == list(keys):
            params = rows
        else:
            pick = itemgetter(*(list(keys).index(key) for key in order))
            params = [pick(row) for row in rows]
        self.connection.exec_driver_sql(sql, params)

    def insert(self, table: Any, keys: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert rows holding the values of `keys` in order: into SQLite (in this process)
        by executemany; into PostgreSQL by COPY (psycopg's), one stream for the chunk
        instead of a statement for each row."""
        if not rows:
            return
        if self.connection.dialect.name != "postgresql":
            self.many(f"insert {table.__tablename__}", _insert(table, keys), keys, rows)
            return
        quote = self.connection.dialect.identifier_preparer.quote
        sql = f"COPY {quote(table.__tablename__)} ({', '.join(map(quote, keys))}) FROM STDIN"
        raw: Any = self.connection.connection.driver_connection  # the transaction's own
        error = self.connection.dialect.loaded_dbapi.Error
        try:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except error as exc:  # as SQLAlchemy raises it (IntegrityError, ...)
            raise DBAPIError.instance(sql, None, exc, error) from exc

    def rows(self, name: str, statement: ClauseElement, values: Sequence[Any]) -> list[Any]:
        """The rows of a SELECT whose one parameter is an expanding IN list (`_IN`), run by
        the driver: its placeholders written once per list length, not per value."""
        if not values:
            return []
        if name not in self.compiled:
            self.compiled[name] = (str(statement.compile(dialect=self.connection.dialect)), None)
        sql, _ = self.compiled[name]
        if self.connection.dialect.name == "postgresql":
            # One array parameter (psycopg parses a statement of a thousand placeholders
            # anew each time), unnested: the planner then looks each value up by the
            # column's index (with `= ANY(array)` it scanned the table).
            kind = "BIGINT" if isinstance(values[0], int) else "TEXT"
            query = sql.replace(_IN_MARK, f"(SELECT unnest(CAST(%s AS {kind}[])))")
            return list(self.connection.exec_driver_sql(query, (list(values),)).all())
        marks = self.marks.get(len(values))
        if marks is None:
            marks = self.marks[len(values)] = ", ".join(["?"] * len(values))
        query = sql.replace(_IN_MARK, f"({marks})")
        return list(self.connection.exec_driver_sql(query, tuple(values)).all())


def _insert(table: Any, keys: Iterable[str]) -> ClauseElement:
    return insert(table).values({key: bindparam(key) for key in keys}).inline()


@dataclass(frozen=True)
class _Stored:
    id: int
    customer: str
    values: tuple[Any, ...]  # FIELDS as the driver reads them
    phones: tuple[str, ...]


def save_contracts(
    session: Session,
    contracts: Sequence[Contract],
    now: datetime,
    actor: str,
    progress: Callable[[int], None] | None = None,
    stored: Callable[[list[str]], dict[str, Contract]] | None = None,
) -> ImportResult:
    """Write the contracts (see the module docstring); `progress` is told how many contracts
    each chunk held once it is written; `stored` reads the changed contracts as they were,
    for their audit entries' values before. Raises ValueError if a number comes twice."""
    seen: set[str] = set()
    for contract in contracts:
        if contract.number in seen:
            raise ValueError(f"contract {contract.number!r} given twice")
        seen.add(contract.number)
    session.flush()  # what the session holds goes first; this works below the ORM
    driver = _Driver(session.connection())
    customers: dict[str, int] = {}
    created = updated = 0
    for start in range(0, len(contracts), CHUNK):
        chunk = contracts[start : start + CHUNK]
        new, changed = _diff(driver, chunk)
        if new or changed:
            old = stored([c.number for c, _ in changed]) if stored and changed else {}
            ids = _customers(driver, [*new, *(c for c, _ in changed)], customers)
            _create(driver, new, ids, now)
            _update(driver, changed, ids, now)
            _audit(driver, new, [(c, old.get(c.number)) for c, _ in changed], now, actor)
        created += len(new)
        updated += len(changed)
        if progress is not None:
            progress(len(chunk))
    session.expire_all()  # a contract the session had loaded is read again
    return ImportResult(created, updated, len(contracts) - created - updated)


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


# The IN list of the reads: one expanding parameter, written out by _Driver.rows.
_IN: BindParameter[Any] = bindparam("values", expanding=True)
_IN_MARK = "(__[POSTCOMPILE_values])"


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
        .where(ContractRow.number.in_(_IN)),
        numbers,
    )
    phones: dict[int, list[str]] = defaultdict(list)
    for contract_id, e164 in driver.rows(
        "stored phones",
        select(ContractPhone.contract_id, ContractPhone.e164)
        .where(ContractPhone.contract_id.in_(_IN))
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
            driver.insert(Customer, ["name"], [(n,) for n in missing])
            known.update(_customer_ids(driver, missing))
    return known


def _customer_ids(driver: _Driver, names: list[str]) -> dict[str, int]:
    query = select(Customer.name, Customer.id).where(Customer.name.in_(_IN))
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
    driver.insert(
        ContractRow,
        keys,
        [(c.number, *_row(driver, c, customers[c.customer], at)) for c in new],
    )
    made = driver.rows(
        "contract ids",
        select(ContractRow.number, ContractRow.id).where(ContractRow.number.in_(_IN)),
        [c.number for c in new],
    )
    ids = {number: id_ for number, id_ in made}
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
    changed: list[tuple[Contract, Contract | None]],
    now: datetime,
    actor: str,
) -> None:
    """One entry per new or changed contract, with its values (domain/audit.contract_change:
    all of a new one's, the changed fields of a changed one, before and after)."""
    when = driver.at(now)  # a UTCDateTime like updated_at
    entries: list[tuple[str, Contract, Contract | None]] = [
        ("contract.create", c, None) for c in new
    ]
    entries += [("contract.update", c, old) for c, old in changed]
    rows = []
    for action, contract, old in entries:
        before, after = contract_change(old, contract)
        rows.append(
            (
                when,
                actor,
                action,
                contract.number[:200],
                "",
                audit.dumped(before),
                audit.dumped(after),
            )
        )
    driver.insert(AuditRow, _AUDIT_KEYS, rows)
