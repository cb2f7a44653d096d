"""The clause checks of a request as the operator fills in its ticket (clauses 4, 5, 7, 8, 9).

Theory of operation: the form's values and the contract they name go in, a list of findings
comes out. A finding says which clause it comes from, which form field it is about, and
whether the request may be skipped because of it; its text lives in the shell, under the
finding's key, in Polish and English. Nothing here refuses a request: the operator saves what
the customer said, flagged, and a manager sees why it may be skipped.

- Clause 4: a request carries the contract number, the site's URL, a precise description
  (at least DESCRIPTION_MIN characters of text) and, where needed, access data. An `action`
  (a change in the admin panel, the database or the program's files: clause 7) needs one
  complete set of access data (FTP, database, phpMyAdmin or admin panel). A set filled in part
  is flagged with the fields it lacks, whatever the kind.
- Clause 5: a URL outside the contract's installation is flagged (`is_other_installation`).
- Clause 7: a request that costs more than today's allowance has left is flagged.
- Clauses 8 and 9: `general` and `modification` requests may be skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from urllib.parse import urlsplit

from callcenter.domain.allowance import COST, Allowance
from callcenter.domain.contracts import Contract
from callcenter.domain.terms import TicketKind

DESCRIPTION_MIN = 15

# The longest value each form field takes (the store's columns are sized to match).
CONTRACT_MAX = 64
SITE_URL_MAX = 500
DESCRIPTION_MAX = 10_000
ACCESS_FIELD_MAX = 500


@dataclass(frozen=True, repr=False)
class AccessData:
    """The clause-4 access data of a request: a secret. Its repr names the filled fields only."""

    ftp_host: str = ""
    ftp_login: str = ""
    ftp_password: str = ""
    db_host: str = ""
    db_name: str = ""
    db_login: str = ""
    db_password: str = ""
    pma_url: str = ""
    pma_login: str = ""
    pma_password: str = ""
    admin_url: str = ""
    admin_login: str = ""
    admin_password: str = ""

    def __repr__(self) -> str:
        return f"AccessData(filled={list(self.filled())!r})"

    __str__ = __repr__

    def filled(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name).strip())

    @property
    def empty(self) -> bool:
        return not self.filled()

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class AccessSet(StrEnum):
    """The four kinds of access clause 4 names, each a set of fields that go together."""

    FTP = "ftp"
    DATABASE = "database"
    PHPMYADMIN = "phpmyadmin"
    ADMIN = "admin"


ACCESS_SETS: dict[AccessSet, tuple[str, ...]] = {
    AccessSet.FTP: ("ftp_host", "ftp_login", "ftp_password"),
    AccessSet.DATABASE: ("db_host", "db_name", "db_login", "db_password"),
    AccessSet.PHPMYADMIN: ("pma_url", "pma_login", "pma_password"),
    AccessSet.ADMIN: ("admin_url", "admin_login", "admin_password"),
}
ACCESS_FIELDS: tuple[str, ...] = tuple(name for names in ACCESS_SETS.values() for name in names)


@dataclass(frozen=True)
class TicketForm:
    """The ticket form's values as the operator filled them in (strings trimmed by the shell).

    `kind` is None until the operator picks one; `call_id` links the ticket to a call (its
    draft, if the listener has opened one)."""

    contract: str = ""
    site_url: str = ""
    description: str = ""
    kind: TicketKind | None = None
    access: AccessData = field(default_factory=AccessData)
    call_id: int | None = None


class FindingCode(StrEnum):
    CONTRACT_MISSING = "contract_missing"
    CONTRACT_UNKNOWN = "contract_unknown"
    SITE_URL_MISSING = "site_url_missing"
    DESCRIPTION_MISSING = "description_missing"
    DESCRIPTION_TOO_SHORT = "description_too_short"
    KIND_MISSING = "kind_missing"
    ACCESS_DATA_MISSING = "access_data_missing"
    ACCESS_DATA_INCOMPLETE = "access_data_incomplete"
    OTHER_INSTALLATION = "other_installation"
    ALLOWANCE_EXCEEDED = "allowance_exceeded"
    GENERAL_QUESTION = "general_question"
    MODIFICATION = "modification"


@dataclass(frozen=True)
class Finding:
    """One clause check that did not pass. `params` fill the message's placeholders."""

    code: FindingCode
    clause: int
    field: str
    may_skip: bool
    params: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The message's key in the shell's catalogue (Polish and English)."""
        return f"ticket.finding.{self.code.value}"


def _finding(
    code: FindingCode, clause: int, field_name: str, may_skip: bool = True, **params: str
) -> Finding:
    return Finding(code, clause, field_name, may_skip, tuple(sorted(params.items())))


def check_request(
    form: TicketForm, contract: Contract | None, allowance: Allowance | None = None
) -> list[Finding]:
    """The findings of a request as filled in, in form order.

    `contract` is the contract the form names (None if the number is empty or unknown);
    `allowance` that contract's allowance on the day the request counts, before this request."""
    found: list[Finding] = []
    found += _contract_findings(form, contract)
    found += _site_findings(form, contract)
    found += _description_findings(form)
    found += _kind_findings(form, allowance)
    found += _access_findings(form)
    return found


def _contract_findings(form: TicketForm, contract: Contract | None) -> list[Finding]:
    if not form.contract.strip():
        return [_finding(FindingCode.CONTRACT_MISSING, 4, "contract")]
    if contract is None:
        return [_finding(FindingCode.CONTRACT_UNKNOWN, 4, "contract", number=form.contract)]
    return []


def _site_findings(form: TicketForm, contract: Contract | None) -> list[Finding]:
    if not form.site_url.strip():
        return [_finding(FindingCode.SITE_URL_MISSING, 4, "site_url")]
    if contract is not None and is_other_installation(contract.site_url, form.site_url):
        return [
            _finding(
                FindingCode.OTHER_INSTALLATION,
                5,
                "site_url",
                may_skip=False,
                site_url=contract.site_url,
                product=contract.product.value,
            )
        ]
    return []


def _description_findings(form: TicketForm) -> list[Finding]:
    text = " ".join(form.description.split())
    if not text:
        return [_finding(FindingCode.DESCRIPTION_MISSING, 4, "description")]
    if len(text) < DESCRIPTION_MIN:
        return [
            _finding(
                FindingCode.DESCRIPTION_TOO_SHORT, 4, "description", minimum=str(DESCRIPTION_MIN)
            )
        ]
    return []


def _kind_findings(form: TicketForm, allowance: Allowance | None) -> list[Finding]:
    kind = form.kind
    if kind is None:
        return [_finding(FindingCode.KIND_MISSING, 8, "kind")]
    if kind is TicketKind.GENERAL:
        return [_finding(FindingCode.GENERAL_QUESTION, 8, "kind")]
    if kind is TicketKind.MODIFICATION:
        return [_finding(FindingCode.MODIFICATION, 9, "kind")]
    if allowance is not None and COST[kind] > allowance.left:
        return [
            _finding(
                FindingCode.ALLOWANCE_EXCEEDED,
                7,
                "kind",
                cost=str(COST[kind]),
                left=str(allowance.left),
                day=allowance.day.isoformat(),
            )
        ]
    return []


def _access_findings(form: TicketForm) -> list[Finding]:
    access = form.access
    filled = set(access.filled())
    found: list[Finding] = []
    complete = False
    for access_set, names in ACCESS_SETS.items():
        missing = [n for n in names if n not in filled]
        if not missing:
            complete = True
        elif len(missing) < len(names):
            found.append(
                _finding(
                    FindingCode.ACCESS_DATA_INCOMPLETE,
                    4,
                    missing[0],
                    set=access_set.value,
                    missing=",".join(missing),
                )
            )
    if form.kind is TicketKind.ACTION and not complete and not found:
        found.append(
            _finding(
                FindingCode.ACCESS_DATA_MISSING,
                4,
                "access",
                sets=",".join(s.value for s in ACCESS_SETS),
            )
        )
    return found


def may_be_skipped(findings: list[Finding]) -> bool:
    return any(f.may_skip for f in findings)


# The kinds that may be skipped whatever else the request carries (clauses 8 and 9).
_SKIPPABLE_KINDS = {
    TicketKind.GENERAL: (FindingCode.GENERAL_QUESTION, 8),
    TicketKind.MODIFICATION: (FindingCode.MODIFICATION, 9),
}


def skip_reasons(kind: TicketKind, findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Why a saved request may be skipped: its findings that allow it (clause 4 missing
    data, 7 over the allowance, 8 general, 9 modification), by clause, form order within
    one. A `general` or `modification` request says so even when it was saved without its
    checks (a ticket logged from the command line keeps no findings)."""
    found = [f for f in findings if f.may_skip]
    by_kind = _SKIPPABLE_KINDS.get(kind)
    if by_kind is not None and all(f.code is not by_kind[0] for f in found):
        found.append(_finding(by_kind[0], by_kind[1], "kind"))
    return tuple(sorted(found, key=lambda f: f.clause))


def too_long(form: TicketForm) -> list[tuple[str, int]]:
    """The fields whose value is longer than the field takes, with the limit (form order)."""
    limits = [
        ("contract", form.contract, CONTRACT_MAX),
        ("site_url", form.site_url, SITE_URL_MAX),
        ("description", form.description, DESCRIPTION_MAX),
    ]
    limits += [(name, value, ACCESS_FIELD_MAX) for name, value in form.access.as_dict().items()]
    return [(name, limit) for name, value, limit in limits if len(value) > limit]


# --- installations (clause 5) ----------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443, "": None}


@dataclass(frozen=True)
class _Site:
    host: str
    port: int | None
    path: tuple[str, ...]


def _site(url: str) -> _Site | None:
    """Host (lower case, without `www.`), explicit port, path segments; None if not a URL."""
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    host = (parts.hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host:
        return None
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return _Site(host=host, port=port, path=tuple(s for s in parts.path.split("/") if s))


def about_other_site(contract: Contract, url: str) -> bool:
    """Clause 5 for a logged request: the URL given is not the contract's installation (a
    request without a URL flags nothing here; the form's checks ask for one)."""
    return bool(url.strip()) and is_other_installation(contract.site_url, url)


def is_other_installation(contract_site_url: str, url: str) -> bool:
    """True when `url` is not on the installation at `contract_site_url` (clause 5).

    The scheme, a leading `www.`, the host's case, a default port, a trailing slash, the query
    and fragment do not matter; a path under the site's path is the same installation."""
    site, other = _site(contract_site_url), _site(url)
    if site is None or other is None:
        return True
    if (site.host, site.port) != (other.host, other.port):
        return True
    return other.path[: len(site.path)] != site.path
