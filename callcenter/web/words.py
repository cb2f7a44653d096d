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
