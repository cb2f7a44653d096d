"""AMI `Originate` for a callback attempt: the operator's phone first, then the customer.

Asterisk rings `PJSIP/<operator>` for up to `ring_timeout` seconds; when the operator
answers, the channel runs `[cc-callback]` (asterisk-conf/extensions.conf), which dials
`PJSIP/<number>@trunk`. `Async: true`: the response only says the call is queued; how it
went comes as events (the listener follows them by the Linkedid we give the channel with
`ChannelId`). The variables tie every event to the callback and the attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.pbx.ami import AmiClient, AmiError

CONTEXT = "cc-callback"
_ENDPOINT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_NUMBER = re.compile(r"\+?[0-9]{3,20}")


class OriginateError(AmiError):
    """Asterisk did not accept the Originate."""


@dataclass(frozen=True)
class Attempt:
    """What the Originate places."""

    callback_id: int
    attempt_id: int
    linkedid: str  # the operator channel's Uniqueid (ChannelId), so the call's Linkedid
    operator: str  # the operator's PJSIP endpoint, e.g. op1
    number: str  # the customer's number, E.164


def originate_fields(attempt: Attempt, ring_timeout: float) -> dict[str, str | list[str]]:
    """The Originate action's fields (the AmiClient adds the ActionID)."""
    if not _ENDPOINT.fullmatch(attempt.operator):
        raise ValueError(f"bad operator endpoint: {attempt.operator!r}")
    if not _NUMBER.fullmatch(attempt.number):
        raise ValueError(f"bad number to call back: {attempt.number!r}")
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/{attempt.operator}",
        "Context": CONTEXT,
        "Exten": "s",
        "Priority": "1",
        "Timeout": str(round(ring_timeout * 1000)),  # milliseconds the operator's phone rings
        # What the operator's phone shows: whom it is about to call back.
        "CallerID": f'"Oddzwonienie" <{attempt.number}>',
        "ChannelId": attempt.linkedid,
        "Async": "true",
        "Variable": [
            f"CC_CALLBACK={attempt.callback_id}",
            f"CC_ATTEMPT={attempt.attempt_id}",
            f"CC_DIAL={attempt.number}",
        ],
    }


async def originate(client: AmiClient, attempt: Attempt, ring_timeout: float = 20.0) -> None:
    """Ask Asterisk to place the attempt's call. Raises AmiError (not connected, no answer
    in time) or OriginateError (refused)."""
    result = await client.action(originate_fields(attempt, ring_timeout))
    if not result.ok:
        message = result.response.get("Message") or "refused"
        raise OriginateError(f"Originate for callback {attempt.callback_id}: {message}")
