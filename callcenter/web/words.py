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
