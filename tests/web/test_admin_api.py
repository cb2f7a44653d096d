"""The admin of the terms through the API and the pages' forms, on a real server and a real
SQLite file (the demo contracts loaded): hostile input answered 4xx naming the field and
stored, when it is data, as written and shown as text; the CSV import all-or-nothing with
its bad lines named, a file in another encoding refused like the CLI refuses it, an
oversize upload refused; closures, consolidations and accounts added and audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
from web_support import Account, LiveServer, bearer, login_cookie

from callcenter import admin
from callcenter.store import audit, db

HEADER = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
)
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_NUMBERS = ["../../etc/passwd", "<script>alert(1)</script>", "B/2, (Łódź) #1?x=%2F"]


def _row(number: str, customer: str = "Firma", paid_until: str = "2026-12-31") -> str:
    quoted = '"' + number.replace('"', '""') + '"'
    customer_q = '"' + customer.replace('"', '""') + '"'
    return (
        f"{quoted},{customer_q},phone,yearly,2026-01-01,{paid_until},SmodCMS,"
        "https://x.example.pl,601 234 567,x@x.pl,2025-12-20T10:00:00,\n"
    )


@pytest.fixture
def boss(live_server: LiveServer, make_user: Callable[..., Account]) -> Iterator[httpx.Client]:
    account = make_user("boss", "manager")
    with live_server.client() as http:
        http.headers["Authorization"] = f"Bearer {bearer(http, account)}"
        yield http


def _upload(http: httpx.Client, body: bytes, name: str = "umowy.csv") -> httpx.Response:
    return http.post("/api/contracts/import", files={"file": (name, body, "text/csv")})


def _entries(url: str, **f: str) -> list[audit.Entry]:
    engine = db.make_engine(url)
    try:
        with db.sessions(engine)() as s:
            entries, _ = audit.page(s, audit.AuditFilter(**f), None, 200)
    finally:
        engine.dispose()
    return entries


def test_hostile_contract_numbers_and_a_formula_cell_are_data(
    boss: httpx.Client, live_server: LiveServer
) -> None:
    body = (HEADER + "".join(_row(n, FORMULA) for n in HOSTILE_NUMBERS)).encode()
    answer = _upload(boss, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 3, "updated": 0, "unchanged": 0}
    for number in HOSTILE_NUMBERS:
        shown = boss.get("/api/contracts/" + quote(number, safe=""))
        assert shown.status_code == 200, (number, shown.text)
        assert shown.json()["number"] == number and shown.json()["customer"] == FORMULA
    found = boss.get("/api/contracts", params={"customer": "=cmd|"}).json()["contracts"]
    assert sorted(c["number"] for c in found) == sorted(HOSTILE_NUMBERS)
    # `../` does not climb out of /api/contracts/: an unknown number is a 404, not a route.
    assert boss.get("/api/contracts/" + quote("../users", safe="")).status_code == 404
    [entry] = _entries(live_server.settings.database_url, subject=HOSTILE_NUMBERS[0])
    assert entry.action == "contract.create" and entry.after is not None
    assert entry.after["customer"] == FORMULA


def test_pages_show_hostile_text_as_text_and_link_each_number_as_one_segment(
    live_server: LiveServer, make_user: Callable[..., Account], boss: httpx.Client
) -> None:
    body = (HEADER + "".join(_row(n, "<b>Klient</b>") for n in HOSTILE_NUMBERS)).encode()
    assert _upload(boss, body).status_code == 200
    with live_server.client() as http:
        login_cookie(http, make_user("kierownik", "manager"))
        listing = http.get("/contracts").text
        assert "<script>alert(1)</script>" not in listing and "<b>Klient</b>" not in listing
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
        for number in HOSTILE_NUMBERS:
            href = "/contracts/" + quote(number, safe="")
            assert f'href="{href}"' in listing.replace("&amp;", "&"), number
            one = http.get(href)
            assert one.status_code == 200, number
            assert '<span id="contract-number">' in one.text
            assert "<script>alert" not in one.text
        missing = http.get("/contracts/" + quote("../nope", safe=""))
        assert missing.status_code == 404 and "Nie ma takiej umowy" in missing.text


def test_a_bad_row_names_its_line_and_nothing_changes(
    boss: httpx.Client, live_server: LiveServer
) -> None:
    before = boss.get("/api/contracts", params={"limit": 200}).json()["contracts"]
    body = HEADER + _row("NEW-1") + _row("CC-2026-001", paid_until="2030-01-01")
    body += _row("NEW-2").replace("phone,yearly", "phone,weekly")  # line 4: billing
    answer = _upload(boss, body.encode())
    assert answer.status_code == 422
    [detail] = answer.json()["detail"]
    assert detail["field"] == "file"
    assert [(line["line"], line["msg"].split(":")[0]) for line in detail["lines"]] == [
        (4, "billing")
    ]
    assert boss.get("/api/contracts", params={"limit": 200}).json()["contracts"] == before
    assert _entries(live_server.settings.database_url, action="contract", actor="boss") == []


def test_a_file_in_another_encoding_is_refused_naming_line_and_column(boss: httpx.Client) -> None:
    body = (HEADER + _row("CP-1", "Zakład Łódź")).encode("cp1250")
    answer = _upload(boss, body)
    assert answer.status_code == 422
    [line] = answer.json()["detail"][0]["lines"]
    assert line["line"] == 2 and "is not UTF-8" in line["msg"] and "column" in line["msg"]


def test_an_oversize_upload_is_refused_naming_the_file(
    boss: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "MAX_UPLOAD_BYTES", 1000)  # the server runs in this process
    answer = _upload(boss, (HEADER + _row("BIG-1") * 20).encode())
    assert answer.status_code == 413
    assert answer.json()["detail"][0]["field"] == "file"
    assert boss.get("/api/contracts", params={"number": "BIG-1"}).json()["contracts"] == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/closures", {"to": "2026-06-03"}, "from"),
        ("/api/closures", {"from": "2026-06-01"}, "to"),
        ("/api/closures", {"from": "2026-06-04", "to": "2026-06-01"}, "to"),
        ("/api/closures", {"from": "01.06.2026", "to": "2026-06-03"}, "from"),
        ("/api/closures", {"from": "0001-01-01", "to": "2026-06-03"}, "from"),
        ("/api/consolidations", {"contract": "CC-2026-001", "day": "2026-06-08"}, "days"),
        ("/api/consolidations", {"contract": "CC-2026-001", "day": "2026-06-08", "days": 1}, "days"),
        ("/api/consolidations", {"contract": "CC-2026-001", "day": "2026-06-06", "days": 2}, "day"),
        ("/api/consolidations", {"day": "2026-06-08", "days": 2}, "contract"),
        ("/api/users", {"username": "x1", "role": "manager"}, "password"),
        ("/api/users", {"username": "X Y", "role": "manager", "password": "long enough 1"}, "username"),
        ("/api/users", {"username": "x2", "role": "root", "password": "long enough 1"}, "role"),
        ("/api/users", {"username": "x3", "role": "operator", "password": "long enough 1"}, "endpoint"),
        ("/api/users", {"username": "x4", "role": "manager", "password": "short"}, "password"),
    ],
)  # fmt: skip
def test_a_missing_or_bad_field_is_a_4xx_naming_it(
    boss: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    answer = boss.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert field in [d["field"] for d in answer.json()["detail"]]


def test_a_missing_file_and_a_bad_phone_are_named(boss: httpx.Client) -> None:
    answer = boss.post("/api/contracts/import", data={"x": "1"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "file"
    answer = boss.get("/api/contracts", params={"phone": "<script>"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "phone"
    assert boss.get("/api/contracts/NO-SUCH").status_code == 404
    consolidation = {"contract": "NO-SUCH", "day": "2026-06-08", "days": 2}
    assert boss.post("/api/consolidations", json=consolidation).status_code == 404


def test_closures_consolidations_and_accounts_are_added_and_audited(
    boss: httpx.Client, live_server: LiveServer
) -> None:
    url = live_server.settings.database_url
    before = boss.get("/api/contracts/CC-2026-001").json()["effective_until"]
    added = boss.post("/api/closures", json={"from": "2026-06-01", "to": "2026-06-03",
                                             "note": FORMULA})  # fmt: skip
    assert added.status_code == 201 and added.json()["note"] == FORMULA
    assert boss.get("/api/closures").json()[-1]["id"] == added.json()["id"]
    after = boss.get("/api/contracts/CC-2026-001").json()
    assert after["effective_until"] > before
    assert any(e["closure"] == added.json()["id"] for e in after["extensions"])
    grant = {"contract": "CC-2026-001", "day": "2026-06-08", "days": 3, "note": "wdrożenie"}
    assert boss.post("/api/consolidations", json=grant).status_code == 201
    assert boss.post("/api/consolidations", json=grant).status_code == 422  # one per day
    usage = boss.get("/api/contracts/CC-2026-001").json()["usage"]
    assert {"day": "2026-06-08", "budget": 6}.items() <= usage[-1].items()
    user = {"username": "op7", "role": "operator", "endpoint": "op7", "password": "long enough 1"}
    assert boss.post("/api/users", json=user).status_code == 201
    assert boss.post("/api/users", json=user).status_code == 422  # exists
    assert boss.post("/api/users/op7/disable").json()["disabled_at"] is not None
    assert boss.post("/api/users/nobody/disable").status_code == 404
    assert boss.post("/api/users/boss/disable").status_code == 422  # not yourself
    actions = [e.action for e in _entries(url, actor="boss")]
    assert actions == ["user.disable", "user.add", "consolidation.grant", "closure.add",
                       "login.bearer"]  # fmt: skip
    listed = boss.get("/api/audit", params={"actor": "boss", "limit": 2}).json()
    assert [e["action"] for e in listed["entries"]] == ["user.disable", "user.add"]
    older = boss.get("/api/audit", params={"actor": "boss", "before": listed["next"],
                                           "limit": 2}).json()  # fmt: skip
    assert [e["action"] for e in older["entries"]] == ["consolidation.grant", "closure.add"]
    assert older["entries"][1]["after"]["note"] == FORMULA
    last = boss.get("/api/audit", params={"actor": "boss", "before": older["next"]}).json()
    assert [e["action"] for e in last["entries"]] == ["login.bearer"] and last["next"] is None
    with httpx.Client(base_url=live_server.url) as other:
        token = other.post("/api/token", data={"username": "op7", "password": "long enough 1"})
    assert token.status_code == 401


def test_an_operator_may_not_use_the_admin(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    op = make_user("op1", "operator", endpoint="op1")
    with live_server.client() as http:
        http.headers["Authorization"] = f"Bearer {bearer(http, op)}"
        assert http.get("/api/contracts").status_code == 403
        assert http.post("/api/closures", json={"from": "2026-06-01", "to": "2026-06-01"}
                         ).status_code == 403  # fmt: skip
        assert http.get("/api/audit").status_code == 403


def test_the_pages_forms_refuse_in_polish_and_need_the_csrf_token(
    live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    with live_server.client() as http:
        csrf = login_cookie(http, make_user("kierownik", "manager"))
        no_token = http.post("/closures", data={"from": "2026-06-01", "to": "2026-06-01"})
        assert no_token.status_code == 403
        bad = http.post("/closures", data={"csrf_token": csrf, "from": "2026-06-04",
                                           "to": "2026-06-01", "note": "<i>x</i>"})  # fmt: skip
        assert bad.status_code == 422
        assert "Przerwa kończy się przed swoim początkiem." in bad.text
        assert 'value="&lt;i&gt;x&lt;/i&gt;"' in bad.text  # what was typed, as text
        good = http.post("/closures", data={"csrf_token": csrf, "from": "2026-06-01",
                                            "to": "2026-06-03"}, follow_redirects=False)  # fmt: skip
        assert good.status_code == 303 and good.headers["location"] == "/closures"
        weekend = http.post("/consolidations", data={"csrf_token": csrf, "contract":
                            "CC-2026-001", "day": "2026-06-06", "days": "2"})  # fmt: skip
        assert weekend.status_code == 422 and "nie jest dniem roboczym" in weekend.text
        imported = http.post(
            "/contracts/import", data={"csrf_token": csrf},
            files={"file": ("z.csv", (HEADER + _row("P-1").replace("yearly", "weekly")).encode(),
                            "text/csv")},
        )  # fmt: skip
        assert imported.status_code == 422
        assert (
            "Nic nie zaimportowano" in imported.text and '<td class="num">2</td>' in imported.text
        )
        added = http.post("/users", data={"csrf_token": csrf, "username": "op5",
                                          "role": "operator", "endpoint": "", "password": "x"})  # fmt: skip
        assert added.status_code == 422 and "Operator potrzebuje telefonu" in added.text
        assert 'name="password"' in added.text and 'value="x"' not in added.text


def test_an_oversize_body_is_refused_before_it_is_read_even_anonymously(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "MAX_UPLOAD_BYTES", 1000)
    big = (HEADER + _row("BIG-2") * 1000).encode()  # well over 1000 + 64 KiB of framing
    assert len(big) > 1000 + 64 * 1024
    with live_server.client() as http:
        for path in ("/api/contracts/import", "/contracts/import"):
            answer = http.post(path, files={"file": ("big.csv", big, "text/csv")})
            assert answer.status_code == 413, path
            assert answer.json()["detail"][0]["field"] == "file"
