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

# A call's outcome in the call log (domain/calls.Outcome), as a manager reads it.
OUTCOMES = {
    "answered": "odebrane",
    "abandoned": "porzucone w kolejce",
    "unanswered": "nieodebrane (limit czasu kolejki)",
    "rejected": "odrzucone",
    "failed": "nieudane",
    "callback_requested": "prośba o oddzwonienie",
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
