"""What a screen opened now shows first: the calls still ringing or in talk at its endpoint
(pbx/popinfo.live_pops), then, for an operator, the calls that ended in the last
`ENDED_WINDOW` with their ticket not yet saved: an ended call's pop stays until its ticket is
saved or it is dismissed (the screen remembers its dismissals for the browser tab)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from callcenter.domain.calls import PopKind
from callcenter.pbx.popinfo import live_pops, pop_payloads
from callcenter.store import call_log
from callcenter.store.tickets import calls_with_draft

ENDED_WINDOW = timedelta(hours=2)


def screen_pops(session: Session, endpoint: str | None, now: datetime) -> list[dict[str, Any]]:
    pops = live_pops(session, endpoint)
    if endpoint is None:
        return pops  # a manager's wall: live calls only
    calls = [
        call_log.load_call(row) for row in calls_with_draft(session, endpoint, now - ENDED_WINDOW)
    ]
    infos = pop_payloads(session, calls) if calls else {}
    for call in calls:
        if call.ended is None:
            continue
        pops.append({"linkedid": call.linkedid, "caller": call.caller_raw,
                     "caller_name": call.caller_name, "operator": call.operator,
                     **infos.get(call.linkedid, {}), "kind": PopKind.ENDED.value,
                     "endpoint": endpoint, "at": call.ended.isoformat()})  # fmt: skip
    return pops
