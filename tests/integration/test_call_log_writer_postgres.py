"""Hostile input never holds the call log (issue 10, item 3), on a real PostgreSQL server,
for both writers: the routing service's (in a thread and in its own process) and the
listener's. A caller's SIP display name longer than its column is fitted to it (a NUL in it,
which PostgreSQL refuses, is replaced); a row the database still refuses (a Linkedid longer
than its key column) is set aside, loudly, and the calls before and after it are written;
shutdown reports exactly what was not written."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from callcenter.config import Settings
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.frames import Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallRow
from dialplan.routing import RoutingService

pytestmark = pytest.mark.postgres

CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "A-1,Zakład Łódź,phone,yearly,2020-01-01,2099-12-31,SmodCMS,https://a.example.pl,"
    "601 234 567,a@a.pl,2019-12-20T10:15:00,\n"
)
LONG_NAME = "Zażółć gęślą jaźń " * 40  # 720 characters; the column holds 200
LONG_LINKEDID = "1764000000." + "9" * 80  # the key column holds 64: cannot be fitted
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC).timestamp()  # Tuesday 09:00 Warsaw


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = db.make_engine(postgres_url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), datetime.now(UTC))
    yield engine
    engine.dispose()


def logged(engine: Engine) -> dict[str, CallRow]:
    with db.sessions(engine)() as s:
        return {row.linkedid: row for row in s.scalars(select(CallRow))}


def decision(linkedid: str, name: str = "Jan") -> repo.CallDecision:
    now = datetime.now(UTC)
    return repo.CallDecision(
        linkedid=linkedid, caller_raw="601234567", caller_name=name,
        caller_e164="+48601234567", dialled="800", route="queue", reason="covered",
        contract="A-1", contracts=("A-1",), covered=True, arrived_at=now, decided_at=now,
        decision_ms=1.0,
    )  # fmt: skip


@pytest.mark.parametrize("own_process", [False, True], ids=["thread", "log-process"])
async def test_routing_service_fits_a_long_display_name_and_sets_aside_a_bad_row(
    engine: Engine, postgres_url: str, own_process: bool, caplog: pytest.LogCaptureFixture
) -> None:
    service = RoutingService(db.sessions(engine), log_url=postgres_url if own_process else None)
    service.record(decision("1.1"))
    service.record(decision("1.2", LONG_NAME))
    service.record(decision(LONG_LINKEDID))
    service.record(decision("1.3", "Jan\x00Kowalski"))  # PostgreSQL refuses NUL in text
    await service.writer.flush()
    service.record(decision("1.4"))  # a later call is not held by the refused one
    with caplog.at_level(logging.INFO):
        report = await service.drain()
    rows = logged(engine)
    assert sorted(rows) == ["1.1", "1.2", "1.3", "1.4"]
    assert rows["1.2"].caller_name == LONG_NAME[:200]
    assert rows["1.3"].caller_name == "Jan\N{REPLACEMENT CHARACTER}Kowalski"
    assert list(report.set_aside) == [LONG_LINKEDID]
    assert "StringDataRightTruncation" in report.set_aside[LONG_LINKEDID].error
    assert (report.written, report.unwritten) == (4, [])
    set_aside = [r.message for r in caplog.records if "set aside" in r.message]
    assert any(f"call={LONG_LINKEDID}" in line for line in set_aside)
    assert any("written=4 set_aside=1 unwritten=0" in r.message for r in caplog.records)


def frame(name: str, t: float, lid: str, **fields: str) -> Frame:
    pairs = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Uniqueid": lid, "Linkedid": lid}
    pairs.update(fields)
    return Frame.of(*pairs.items(), received_at=datetime.now(UTC))


def abandoned_call(lid: str, name: str) -> list[Frame]:
    channel = "PJSIP/trunk-0000000a"
    return [
        frame("Newchannel", 0, lid, Channel=channel, CallerIDNum="601234567",
              CallerIDName=name, Exten="800"),
        frame("UserEvent", 1, lid, UserEvent="CallcenterDecision", Route="queue",
              Reason="covered", Call=lid, Contract="A-1"),
        frame("QueueCallerJoin", 2, lid, Queue="support", Position="1"),
        frame("AgentCalled", 2.1, lid, Interface="PJSIP/op1", DestChannel="PJSIP/op1-0b"),
        frame("QueueCallerAbandon", 9, lid, HoldTime="7"),
        frame("Hangup", 9, lid, Channel=channel),
    ]  # fmt: skip


async def test_listener_fits_a_long_display_name_and_sets_aside_a_bad_row(
    engine: Engine, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    listener = Listener(db.sessions(engine), Settings(database_url=postgres_url), PopHub())
    for f in [*abandoned_call("2.1", "Jan"), *abandoned_call("2.2", LONG_NAME)]:
        await listener.handle(f)
    for f in abandoned_call(LONG_LINKEDID, "Ewa"):
        await listener.handle(f)
    await listener.flush()
    for f in abandoned_call("2.3", "Olga " * 100):  # after the refused one
        await listener.handle(f)
    with caplog.at_level(logging.INFO):
        report = await listener.close()
    rows = logged(engine)
    assert sorted(rows) == ["2.1", "2.2", "2.3"]
    assert rows["2.2"].caller_name == LONG_NAME[:200]
    assert [r.outcome for r in rows.values()] == ["abandoned"] * 3
    assert all(r.callback_id is not None for r in rows.values())  # what follows, too
    assert list(report.set_aside) == [LONG_LINKEDID]
    assert report.unwritten == []
    assert any(
        f"call={LONG_LINKEDID}" in r.message and "set aside" in r.message for r in caplog.records
    )
