"""What an audit entry says changed: the values of a thing before and after a change, and
the field-by-field difference a manager reads (pure; the store keeps the values as JSON).

A value is a plain JSON value: a string, a number, a boolean, None or a list of these.
Dates and times are ISO 8601 text by the time they get here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callcenter.domain.calendar import warsaw
from callcenter.domain.contracts import Contract

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """One field of an audit entry: its value before (None: none) and after."""

    field: str
    before: Any
    after: Any


def contract_values(contract: Contract) -> dict[str, Any]:
    """A contract as its audit entries record it."""
    return {
        "number": contract.number,
        "customer": contract.customer,
        "plan": contract.plan.value,
        "billing": contract.billing.value,
        "paid_from": contract.paid_from.isoformat(),
        "paid_until": contract.paid_until.isoformat(),
        "product": contract.product.value,
        "site_url": contract.site_url,
        "phones": list(contract.phones),
        "email": contract.email,
        "accepted_at": warsaw(contract.accepted_at).isoformat(),  # one instant, one text
        "daily_units": contract.daily_units,
    }


def contract_change(
    old: Contract | None, new: Contract
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(before, after) of an imported contract: a new one has no before and all its
    values after; a changed one, the fields that changed on both sides."""
    after = contract_values(new)
    if old is None:
        return None, after
    before = contract_values(old)
    changed = [name for name in after if before.get(name) != after[name]]
    return {n: before.get(n) for n in changed}, {n: after[n] for n in changed}


def changes(before: Values | None, after: Values | None) -> list[Change]:
    """Field by field, in the order the fields first appear (after's, then those only
    before had): each field whose value differs, or that one side alone has."""
    old, new = dict(before or {}), dict(after or {})
    names = list(dict.fromkeys([*new, *old]))
    return [
        Change(name, old.get(name), new.get(name))
        for name in names
        if name not in old or name not in new or old[name] != new[name]
    ]
