"""The screens' words in Polish: one place for each code's wording (the operators work in
Polish). The codes themselves stay what they are everywhere else."""

from __future__ import annotations

from callcenter.ticket_messages import FIELD_NAMES

REASONS = {
    "covered": "umowa obejmuje rozmowę telefoniczną",
    "ambiguous": "kilka umów pasuje do numeru: wybierz właściwą",
    "fail_open": "usługa routingu nie odpowiedziała: połączenie przepuszczone",
    "withheld": "numer zastrzeżony",
    "invalid": "nieprawidłowy numer",
    "weekend": "weekend",
    "holiday": "święto",
    "closure": "przerwa w pracy działu",
    "outside_hours": "poza godzinami pracy",
    "unknown_number": "numer nie pasuje do żadnej umowy",
    "email_plan": "umowa tylko na zgłoszenia e-mail",
    "expired": "umowa wygasła",
    "not_started": "umowa jeszcze się nie zaczęła",
    "action_used": "dzisiejszy limit wykorzystany (wykonano już działanie)",
    "answers_used": "dzisiejszy limit odpowiedzi wykorzystany",
    "consolidated": "dzisiejszy limit przeniesiony na wcześniejszy dzień",
}

ROUTES = {
    "queue": "kolejka",
    "anonymous": "anonimowe",
    "closed": "zamknięte",
    "no_contract": "bez umowy",
    "email_only": "tylko e-mail",
    "expired": "umowa nieaktywna",
    "limit_reached": "limit wykorzystany",
}

PLANS = {"email": "e-mail", "phone": "telefoniczny", "professional": "profesjonalny"}

KINDS = {
    "answer": "odpowiedź",
    "action": "działanie",
    "general": "ogólne",
    "modification": "modyfikacja",
}

EXTENSION_CAUSES = {"closure": "przerwa w pracy działu", "delay": "spóźniona odpowiedź"}

POP_STATES = {
    "ringing": "Dzwoni",
    "answered": "Rozmowa",
    "taken": "Odebrane przez {who}",
    "missed": "Nieodebrane",
    "ended": "Zakończone",
}

# An operator's state on the wallboard (domain/wallboard.MemberState).
WALLBOARD_STATES = {
    "free": "Wolny",
    "ringing": "Dzwoni",
    "talking": "Rozmawia",
    "paused": "Przerwa",
    "unreachable": "Niedostępny",
}


# A callback attempt's result (domain/callbacks.AttemptResult), as the operator reads it.
ATTEMPT_RESULTS = {
    "reached": "klient odebrał: oddzwonienie zamknięte",
    "no_answer": "klient nie odebrał",
    "busy": "u klienta zajęte",
    "unreachable": "numer klienta nieosiągalny",
    "operator_no_answer": "Twój telefon nie odebrał: klient nie był wybierany",
    "failed": "centrala nie zestawiła połączenia",
}


# The manager's lists (domain/breaches.py): a ticket's and a callback's state.
TICKET_STATES = {"open": "otwarte", "answered": "odpowiedziane", "breached": "po terminie"}
CALLBACK_STATES = {"open": "do oddzwonienia", "done": "zamknięte", "breached": "po terminie"}

# A callback attempt's result as the manager reads it (the operator's wording says "your").
ATTEMPT_OUTCOMES = {
    "reached": "klient odebrał",
    "no_answer": "klient nie odebrał",
    "busy": "u klienta zajęte",
    "unreachable": "numer klienta nieosiągalny",
    "operator_no_answer": "operator nie odebrał (klient nie był wybierany)",
    "failed": "centrala nie zestawiła połączenia",
}

# The call log (manager's pages): a call's outcome (domain.call_values.Outcome, or a
# callback call's AttemptResult), an operator's ring, a direction, a timeline's step.
OUTCOMES = {
    "answered": "odebrane",
    "abandoned": "porzucone w kolejce",
    "unanswered": "nieodebrane (limit czasu kolejki)",
    "rejected": "odrzucone",
    "failed": "nieudane",
    "callback_requested": "prośba o oddzwonienie",
    "reached": "oddzwonienie: klient odebrał",
    "no_answer": "oddzwonienie: klient nie odebrał",
    "busy": "oddzwonienie: u klienta zajęte",
    "unreachable": "oddzwonienie: numer nieosiągalny",
    "operator_no_answer": "oddzwonienie: operator nie odebrał",
}

RING_RESULTS = {
    "ringing": "dzwoni",
    "answered": "odebrał",
    "no_answer": "nie odebrał",
    "busy": "zajęty",
    "cancelled": "przerwane",
    "unavailable": "niedostępny",
}

DIRECTIONS = {"inbound": "przychodzące", "callback": "oddzwonienie"}

TICKET_STATUSES = {"draft": "szkic", "open": "otwarte", "answered": "z odpowiedzią"}

STEPS = {
    "arrived": "Połączenie przyszło",
    "decided": "Decyzja",
    "queued": "W kolejce",
    "rung": "Dzwonił telefon",
    "answered": "Odebrane",
    "abandoned": "Klient rozłączył się w kolejce",
    "timeout": "Koniec czasu w kolejce",
    "callback_requested": "Klient poprosił o oddzwonienie",
    "left_queue": "Opuścił kolejkę",
    "ended": "Zakończone",
    "ticket": "Zgłoszenie",
    "callback": "Oddzwonienie do zrobienia",
    "callback_attempt": "Próba oddzwonienia",
}


def all_words() -> dict[str, dict[str, str]]:
    """Everything the pop script shows, handed to it as JSON in the page."""
    return {
        "reasons": REASONS,
        "routes": ROUTES,
        "plans": PLANS,
        "kinds": KINDS,
        "extension_causes": EXTENSION_CAUSES,
        "pop_states": POP_STATES,
        "attempt_results": ATTEMPT_RESULTS,
        "fields": {name: polish for name, (polish, _) in FIELD_NAMES.items()},
    }


# The manager's admin pages: why a form was refused (admin.AdminInputError codes).
ADMIN_ERRORS = {
    "phone": "To nie jest numer telefonu.",
    "date": "Podaj datę w postaci RRRR-MM-DD.",
    "date_range": "Data spoza obsługiwanego zakresu (1970–2999).",
    "closure_order": "Przerwa kończy się przed swoim początkiem.",
    "note": "Notatka jest za długa.",
    "days": "Liczba dni: od 2 do 260.",
    "not_working_day": "Ten dzień nie jest dniem roboczym.",
    "consolidated_day": "Ta umowa ma już konsolidację na ten dzień.",
    "no_contract": "Nie ma takiej umowy.",
    "role": "Rola: operator albo kierownik.",
    "username": "Login: 1–64 znaki a-z 0-9 . _ -, na początku litera lub cyfra.",
    "endpoint": "Operator potrzebuje telefonu (1–64 znaki A-Z a-z 0-9 . _ -).",
    "password": "Hasło jest za krótkie albo puste.",
    "user_exists": "Takie konto już istnieje.",
    "disable_self": "Nie można wyłączyć własnego konta.",
    "no_user": "Nie ma takiego konta.",
    "file": "Wybierz plik CSV.",
    "file_size": "Plik jest za duży.",
}

# What an audit entry's action means, and its fields' names.
AUDIT_ACTIONS = {
    "contract.create": "umowa dodana",
    "contract.update": "umowa zmieniona",
    "closure.add": "przerwa ogłoszona",
    "consolidation.grant": "konsolidacja przyznana",
    "ticket.add": "zgłoszenie dodane",
    "ticket.complete": "zgłoszenie zapisane",
    "ticket.answer": "zgłoszenie oznaczone jako odpowiedziane",
    "ticket.reveal": "dane dostępowe odsłonięte",
    "user.add": "konto dodane",
    "user.disable": "konto wyłączone",
    "user.rehash": "hasło przeliczone",
    "login.cookie": "logowanie (przeglądarka)",
    "login.bearer": "logowanie (token API)",
    "logout": "wylogowanie",
}

AUDIT_FIELDS = {
    "number": "numer",
    "customer": "klient",
    "plan": "plan",
    "billing": "rozliczenie",
    "paid_from": "opłacona od",
    "paid_until": "opłacona do",
    "product": "produkt",
    "site_url": "adres instalacji",
    "phones": "telefony",
    "email": "e-mail",
    "accepted_at": "zaakceptowana",
    "daily_units": "jednostek dziennie",
    "id": "nr",
    "from": "od",
    "to": "do",
    "note": "notatka",
    "contract": "umowa",
    "day": "dzień",
    "days": "dni",
    "ticket": "zgłoszenie",
    "kind": "rodzaj",
    "received_at": "przyjęte",
    "answered_at": "odpowiedziane",
    "other_site": "inna strona",
    "findings": "uwagi",
    "username": "login",
    "role": "rola",
    "endpoint": "telefon",
    "disabled_at": "wyłączone",
    "effective_until": "obowiązuje do",
    "active": "aktywna",
    "used": "wykorzystano (jedn.)",
}

# Codes among an audit entry's values, by field, as a manager reads them.
AUDIT_VALUES = {
    "plan": PLANS,
    "billing": {"monthly": "miesięczne", "yearly": "roczne"},
    "role": {"operator": "operator", "manager": "kierownik"},
    "kind": KINDS,
}
