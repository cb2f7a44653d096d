"""Replay recorded AMI streams (tests/fixtures/ami/) through the whole listener into a real
SQLite file: the tracker, the pop hub with its contract reads, the call-log writer with what
follows a call (callback, ticket draft), and on each recorded login the resync, answered
from the recording's own CoreShowChannels reply.

A scenario is `<name>.jsonl`, or `<name>.1.jsonl`, `<name>.2.jsonl`, ... when the listener
was restarted mid-call: each file is replayed by a new Listener on the same store, which
takes the unfinished calls over from the log as `callcenter listen` does at start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from callcenter.config import Settings
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.frames import ActionReply, ActionResult, Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import ALL, PopHub
from callcenter.pbx.recording import read_recording
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallRow, TicketRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"

# The contracts of the recording runs (record_fixtures.py), paid for long enough that a
# replay on any later day finds them.
CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "R-1,Zakład Łódź,phone,yearly,2026-01-01,2099-12-31,SmodCMS,https://r1.example.pl,"
    "+48601000001,r1@example.pl,2025-12-20T10:00:00,\n"
    "R-2,Piekarnia Kraków,phone,yearly,2026-01-01,2099-12-31,SmodCMS,https://r2.example.pl,"
    "+48601000002,r2@example.pl,2025-12-20T10:00:00,\n"
)
SETTLE = 10.0  # seconds a pop's contract read may take (bounded wait, not a pace)


@dataclass(frozen=True)
class Logged:
    """A call-log row as the test states it: who called, the decision, the outcome, who
    took it, each ring with its result, whole seconds waited and talked, what follows."""

    caller: str
    name: str
    route: str | None
    reason: str | None
    outcome: str | None
    operator: str | None
    rings: tuple[tuple[str, str], ...]
    wait: int | None
    talk: int | None
    follow_up: str | None  # "callback", "ticket draft" or None


Pop = tuple[str, str, str | None]  # kind, endpoint, the contract shown (ringing pops)


def scenario_files(name: str) -> list[Path]:
    single = FIXTURES / f"{name}.jsonl"
    if single.exists():
        return [single]
    parts = sorted(FIXTURES.glob(f"{name}.[0-9].jsonl"))
    if not parts:
        raise FileNotFoundError(f"no recording {single} nor {name}.N.jsonl")
    return parts


def scenarios() -> list[str]:
    """Every recorded scenario in the fixtures folder."""
    names = {p.name.split(".")[0] for p in FIXTURES.glob("*.jsonl")}
    return sorted(names)


class RecordedClient:
    """Stands for the AmiClient in `Listener.resync`: answers with the recorded reply."""

    def __init__(self) -> None:
        self.reply: ActionResult | None = None
        # The wallboard's QueueStatus answer (recordings made before it have none: empty)
        self.queue_status = ActionResult(
            Frame.of(("Response", "Success"), ("EventList", "start")),
            (Frame.of(("Event", "QueueStatusComplete"), ("EventList", "Complete")),),
        )

    async def action(self, fields: dict[str, str], timeout: float | None = None) -> ActionResult:
        if fields == {"Action": "QueueStatus"}:
            return self.queue_status
        assert fields == {"Action": "CoreShowChannels"}, fields
        assert self.reply is not None, "resync asked before the recorded reply"
        return self.reply


async def replay(name: str, database: Path) -> tuple[list[Logged], list[Pop]]:
    url = f"sqlite:///{database}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, parse_contracts(CSV), datetime.now(UTC))
    settings = Settings(database_url=url, asterisk_log_dir=str(database.parent / "no-logs"))
    hub = PopHub()
    pops: list[Pop] = []
    try:
        async with hub.subscribe(ALL) as wall:
            for path in scenario_files(name):
                await _replay_file(path, db.sessions(engine), settings, hub)
            while not wall.empty():
                pops.append(_pop(wall.get_nowait()))
        with db.sessions(engine)() as session:
            rows = session.scalars(select(CallRow).order_by(CallRow.arrived_at)).all()
            drafts = set(session.scalars(select(TicketRow.call_id)))
            return [_logged(row, drafts) for row in rows], pops
    finally:
        engine.dispose()


async def _replay_file(path: Path, sessions: Any, settings: Settings, hub: PopHub) -> None:
    listener = Listener(sessions, settings, hub)
    client = RecordedClient()
    listener.client = client  # type: ignore[assignment]
    await listener.adopt_unfinished()
    replies: dict[str, ActionReply] = {}
    try:
        for frame in read_recording(path):
            action_id = frame.get("ActionID")
            if action_id:  # an action's answer: the AmiClient hands it to its caller
                result = replies.setdefault(action_id, ActionReply()).add(frame)
                if result is not None and _lists_queues(result):
                    client.queue_status = result  # asked first, then CoreShowChannels
                if result is not None and _lists_channels(result):
                    client.reply = result
                    await listener.resync()
                continue
            await listener.handle(frame)
            await _pops_out(listener)
    finally:
        await listener.close()


def _lists_queues(result: ActionResult) -> bool:
    return any(e.event == "QueueStatusComplete" for e in result.events)


def _lists_channels(result: ActionResult) -> bool:
    return any(e.event == "CoreShowChannelsComplete" for e in result.events)


async def _pops_out(listener: Listener) -> None:
    """Until the pops of the events so far are published (a ringing pop waits for its
    contract read): the next event's pops come after them, as at Asterisk's pace."""
    async with asyncio.timeout(SETTLE):
        for pending in list(listener._pop_infos.values()):
            await asyncio.shield(pending)
        while listener._pop_infos:
            await asyncio.sleep(0)


def _pop(message: dict[str, Any]) -> Pop:
    contract = message.get("contract")
    return (
        str(message["kind"]),
        str(message["endpoint"]),
        str(contract["number"]) if isinstance(contract, dict) else None,
    )


def _logged(row: CallRow, drafts: set[int | None]) -> Logged:
    follow_up = (
        "ticket draft" if row.id in drafts else "callback" if row.callback_id is not None else None
    )
    return Logged(
        caller=row.caller_raw,
        name=row.caller_name,
        route=row.route,
        reason=row.reason,
        outcome=row.outcome,
        operator=row.operator,
        rings=tuple((r.endpoint, r.result) for r in row.rings),
        wait=None if row.wait_s is None else round(row.wait_s),
        talk=None if row.talk_s is None else round(row.talk_s),
        follow_up=follow_up,
    )
