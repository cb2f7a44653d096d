"""The call tracker as it was before its fast path (domain/calls.py FOLLOWED), for the tests
that hold the fast path to it: every event looked up in the machine's table."""

from __future__ import annotations

from datetime import datetime

from callcenter.domain.ami_events import Event, event_time, linkedid_of
from callcenter.domain.calls import CallState, Tracker, Update, apply, arrive


class EveryEventTracker(Tracker):
    """The tracker as it was before the fast path: every event looked up in the table."""

    def feed(self, event: Event, received: datetime) -> Update | None:
        linkedid = linkedid_of(event)
        if not linkedid:
            return None
        at = event_time(event, received)
        call = self.calls.get(linkedid)
        if call is None:
            new = arrive(event, at) if linkedid not in self.ended else None
            if new is None:
                return None
            self.calls[linkedid] = new
            return Update(new, ())
        changed, pops = apply(call, event, at)
        if changed == call:
            return None
        if changed.state is CallState.ENDED:
            self.forget(linkedid)
        else:
            self.calls[linkedid] = changed
        return Update(changed, pops)
