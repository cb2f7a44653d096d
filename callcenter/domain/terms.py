"""The vocabulary of the support terms: plans, products, routes, reasons, request kinds."""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PROFESSIONAL = "professional"

    @property
    def covers_phone(self) -> bool:
        """Only `phone` and `professional` contracts cover a phone call (plans table)."""
        return self is not Plan.EMAIL


class Billing(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Product(StrEnum):
    """The free programs support is sold for (clause 2)."""

    SMODCMS = "SmodCMS"
    SMODBIP = "SmodBIP"
    SMODSKLEP = "SmodSKLEP"
    SMODFM = "SmodFM"
    SMODFTP = "SmodFTP"

    @classmethod
    def parse(cls, text: str) -> Product:
        """Case-insensitive lookup; raises ValueError naming the known products."""
        found = _PRODUCTS.get(text.strip().lower())
        if found is not None:
            return found
        known = ", ".join(p.value for p in cls)
        raise ValueError(f"unknown product {text!r} (known: {known})")


_PRODUCTS = {p.value.lower(): p for p in Product}


class TicketKind(StrEnum):
    """How an operator classifies a request (clauses 7-9)."""

    ANSWER = "answer"
    ACTION = "action"
    GENERAL = "general"
    MODIFICATION = "modification"


class Route(StrEnum):
    """Where a call goes: the value of CC_ROUTE (DESIGN.md, routing contract)."""

    ANONYMOUS = "anonymous"
    CLOSED = "closed"
    NO_CONTRACT = "no_contract"
    EMAIL_ONLY = "email_only"
    EXPIRED = "expired"
    LIMIT_REACHED = "limit_reached"
    QUEUE = "queue"


class Reason(StrEnum):
    """The finer reason behind a route: the value of CC_REASON and the prompt file name."""

    WITHHELD = "withheld"
    INVALID = "invalid"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    CLOSURE = "closure"
    OUTSIDE_HOURS = "outside_hours"
    UNKNOWN_NUMBER = "unknown_number"
    EMAIL_PLAN = "email_plan"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    ACTION_USED = "action_used"
    ANSWERS_USED = "answers_used"
    CONSOLIDATED = "consolidated"
    COVERED = "covered"
    AMBIGUOUS = "ambiguous"
    FAIL_OPEN = "fail_open"
