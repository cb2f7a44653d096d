"""A contract number with a comma round-trips (issue 10, item 2): the routing service logs the
decision's contracts as a list, the listener's pop names each contract, the CLI shows them,
on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from callcenter.cli import main
from callcenter.config import Settings
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.frames import Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.services import route_call
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from dialplan.routing import RoutingService

BOTH = ("K/1, Łódź", "K/2,Kraków,2")
CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    '"K/1, Łódź",Zakład,phone,yearly,2020-01-01,2099-12-31,SmodCMS,https://a.example.pl,'
    "601 234 567,a@a.pl,2019-12-20T10:15:00,\n"
    '"K/2,Kraków,2",Zakład,phone,yearly,2020-01-01,2099-12-31,SmodBIP,https://b.example.pl,'
    "601 234 567,b@b.pl,2019-12-20T10:15:00,\n"
)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 Warsaw


def frame(name: str, t: float, lid: str, **fields: str) -> Frame:
    pairs = {"Event": name, "Timestamp": f"{TUESDAY.timestamp() + t:.6f}", "Uniqueid": lid,
             "Linkedid": lid, **fields}  # fmt: skip
    return Frame.of(*pairs.items(), received_at=datetime.now(UTC))


async def test_a_contract_number_with_a_comma_round_trips(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.sessions(engine)
    with db.transaction(sessions) as s:
        repo.import_contracts(s, parse_contracts(CSV), datetime.now(UTC))
        decision = route_call(s, "601234567", TUESDAY, "PL")
    assert (decision.reason, decision.contracts) == ("ambiguous", BOTH)

    # The routing service logs it.
    service = RoutingService(sessions)
    service.record(
        repo.CallDecision(
            linkedid="9.1", caller_raw="601234567", caller_name="Jan",
            caller_e164=decision.number, dialled="800", route=decision.route.value,
            reason=decision.reason.value, contract=decision.contract,
            contracts=decision.contracts, covered=decision.covered, arrived_at=TUESDAY,
            decided_at=TUESDAY, decision_ms=1.0,
        )
    )  # fmt: skip
    assert (await service.drain()).complete
    with sessions() as s:
        logged = repo.call_by_linkedid(s, "9.1")
        assert logged is not None and logged.contracts == BOTH

    # The listener's pop names both contracts, each whole.
    hub = PopHub()
    listener = Listener(sessions, Settings(database_url=database_url), hub)
    async with hub.subscribe("op1") as pops:
        for f in [
            frame("Newchannel", 0, "9.1", Channel="PJSIP/trunk-01", CallerIDNum="601234567",
                  CallerIDName="Jan", Exten="800"),
            frame("UserEvent", 1, "9.1", UserEvent="CallcenterDecision", Route="queue",
                  Reason="ambiguous", Call="9.1"),
            frame("QueueCallerJoin", 2, "9.1", Queue="support", Position="1"),
            frame("AgentCalled", 3, "9.1", Interface="PJSIP/op1", DestChannel="PJSIP/op1-02"),
        ]:  # fmt: skip
            await listener.handle(f)
        pop = await pops.get()
    assert (await listener.close()).complete
    assert pop["kind"] == "ringing"
    assert [c["number"] for c in pop["contracts"]] == list(BOTH)

    # The CLI shows them.
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["calls", "show", "9.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contracts"] == list(BOTH)
    assert main(["route", "601234567", "--at", "2026-11-24T10:00", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contracts"] == list(BOTH)
    engine.dispose()
