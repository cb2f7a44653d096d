"""The text of the ticket form's findings, in Polish and English, by the finding's key.

A finding (domain/tickets.py) carries its key and the values its text names (`params`); this
catalogue is the one place the words live. `{placeholders}` are the finding's params.
"""

from __future__ import annotations

from typing import Literal

from callcenter.domain.tickets import Finding, FindingCode

Language = Literal["pl", "en"]

# Polish and English names of the form's fields, as the messages name them.
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "contract": ("numer umowy", "contract number"),
    "site_url": ("adres strony", "site URL"),
    "description": ("opis", "description"),
    "kind": ("rodzaj zgłoszenia", "kind of request"),
    "access": ("dane dostępowe", "access data"),
    "ftp_host": ("serwer FTP", "FTP host"),
    "ftp_login": ("login FTP", "FTP login"),
    "ftp_password": ("hasło FTP", "FTP password"),
    "db_host": ("serwer bazy danych", "database host"),
    "db_name": ("nazwa bazy danych", "database name"),
    "db_login": ("login bazy danych", "database login"),
    "db_password": ("hasło bazy danych", "database password"),
    "pma_url": ("adres phpMyAdmin", "phpMyAdmin URL"),
    "pma_login": ("login phpMyAdmin", "phpMyAdmin login"),
    "pma_password": ("hasło phpMyAdmin", "phpMyAdmin password"),
    "admin_url": ("adres panelu administracyjnego", "admin panel URL"),
    "admin_login": ("login panelu administracyjnego", "admin panel login"),
    "admin_password": ("hasło panelu administracyjnego", "admin panel password"),
}

MESSAGES: dict[FindingCode, tuple[str, str]] = {
    FindingCode.CONTRACT_MISSING: (
        "Brak numeru umowy: zgłoszenie może zostać pominięte (pkt 4).",
        "No contract number: the request may be skipped (clause 4).",
    ),
    FindingCode.CONTRACT_UNKNOWN: (
        "Nie ma umowy o numerze {number}: zgłoszenie może zostać pominięte (pkt 4).",
        "There is no contract {number}: the request may be skipped (clause 4).",
    ),
    FindingCode.SITE_URL_MISSING: (
        "Brak adresu strony: zgłoszenie może zostać pominięte (pkt 4).",
        "No site URL: the request may be skipped (clause 4).",
    ),
    FindingCode.DESCRIPTION_MISSING: (
        "Brak opisu problemu: zgłoszenie może zostać pominięte (pkt 4).",
        "No description: the request may be skipped (clause 4).",
    ),
    FindingCode.DESCRIPTION_TOO_SHORT: (
        "Opis jest zbyt ogólny (co najmniej {minimum} znaków): zgłoszenie może zostać "
        "pominięte (pkt 4).",
        "The description is not precise (at least {minimum} characters): the request may be "
        "skipped (clause 4).",
    ),
    FindingCode.KIND_MISSING: (
        "Wybierz rodzaj zgłoszenia: odpowiedź, działanie, ogólne, modyfikacja (pkt 8).",
        "Choose the kind of request: answer, action, general, modification (clause 8).",
    ),
    FindingCode.ACCESS_DATA_MISSING: (
        "Działanie wymaga danych dostępowych (FTP, baza danych, phpMyAdmin lub panel "
        "administracyjny): zgłoszenie może zostać pominięte (pkt 4).",
        "An action needs access data (FTP, database, phpMyAdmin or the admin panel): the "
        "request may be skipped (clause 4).",
    ),
    FindingCode.ACCESS_DATA_INCOMPLETE: (
        "Niepełne dane dostępowe, brakuje: {missing}: zgłoszenie może zostać pominięte (pkt 4).",
        "Incomplete access data, missing: {missing}: the request may be skipped (clause 4).",
    ),
    FindingCode.OTHER_INSTALLATION: (
        "To nie jest instalacja objęta umową ({product} pod {site_url}) (pkt 5).",
        "This is not the installation the contract covers ({product} at {site_url}) (clause 5).",
    ),
    FindingCode.ALLOWANCE_EXCEEDED: (
        "Zgłoszenie kosztuje {cost}, a limitu na {day} zostało {left} (pkt 7).",
        "The request costs {cost} unit(s), {left} left of the allowance on {day} (clause 7).",
    ),
    FindingCode.GENERAL_QUESTION: (
        "Pytanie ogólne: może zostać pominięte (pkt 8).",
        "A general question: it may be skipped (clause 8).",
    ),
    FindingCode.MODIFICATION: (
        "Modyfikacja programu, szablonu lub CSS: poza zakresem abonamentu, może zostać "
        "pominięta (pkt 9).",
        "A change to the program, the template or the CSS: out of scope of the subscription, "
        "it may be skipped (clause 9).",
    ),
}


def field_name(name: str, language: Language) -> str:
    polish, english = FIELD_NAMES.get(name, (name, name))
    return polish if language == "pl" else english


def finding_text(finding: Finding, language: Language) -> str:
    """The finding's message in `language`, its placeholders filled from its params."""
    polish, english = MESSAGES[finding.code]
    template = polish if language == "pl" else english
    params = dict(finding.params)
    if "missing" in params:
        params["missing"] = ", ".join(field_name(n, language) for n in params["missing"].split(","))
    return template.format(**params)


def finding_json(finding: Finding) -> dict[str, object]:
    """A finding as the API gives it: code, clause, field, key, params and both texts."""
    return {
        "code": finding.code.value,
        "clause": finding.clause,
        "field": finding.field,
        "may_skip": finding.may_skip,
        "key": finding.key,
        "params": dict(finding.params),
        "text": {"pl": finding_text(finding, "pl"), "en": finding_text(finding, "en")},
    }
