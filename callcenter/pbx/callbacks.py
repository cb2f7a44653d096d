"""The one-click callback: record an attempt, ask Asterisk to place it.

`call_back` is what a "Call back" button calls, in the process that owns the AMI
connection (`callcenter serve`: the listener's `AmiClient`). How the attempt ends is
recorded by the listener when the originated call's events arrive
(`store.callbacks.save_outbound`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from callcenter.pbx.ami import AmiClient, AmiError
from callcenter.pbx.originate import Attempt, originate
from callcenter.store import db
from callcenter.store.callbacks import CallbackError, StartedAttempt, fail_attempt, start_attempt

log = logging.getLogger(__name__)

AttemptId = int


async def call_back(
    client: AmiClient,
    sessions: sessionmaker[Session],
    callback_id: int,
    operator_endpoint: str,
    now: datetime,
    ring_timeout: float = 20.0,
) -> AttemptId:
    """Start an attempt on the callback: the operator's phone rings first, then the
    customer's number. Returns the attempt's id at once (the call goes on). Raises
    CallbackError (unknown, done, under way) or AmiError (Asterisk did not take it; the
    attempt is then recorded as `failed`)."""
    loop = asyncio.get_running_loop()
    token = secrets.token_hex(4)

    def start() -> StartedAttempt:
        with db.transaction(sessions) as session:
            return start_attempt(session, callback_id, operator_endpoint, now, token)

    started = await loop.run_in_executor(None, start)
    attempt = Attempt(
        callback_id=callback_id,
        attempt_id=started.attempt_id,
        linkedid=started.linkedid,
        operator=operator_endpoint,
        number=started.number,
    )
    try:
        await originate(client, attempt, ring_timeout)
    except (AmiError, ValueError) as exc:
        log.warning("callback=%d attempt=%d not placed: %s", callback_id, attempt.attempt_id, exc)

        def fail() -> None:
            with db.transaction(sessions) as session:
                fail_attempt(session, attempt.attempt_id, now)

        await loop.run_in_executor(None, fail)
        if isinstance(exc, ValueError):
            raise CallbackError(str(exc)) from exc
        raise
    log.info(
        "callback=%d attempt=%d operator=%s linkedid=%s placed",
        callback_id, attempt.attempt_id, operator_endpoint, attempt.linkedid,
    )  # fmt: skip
    return attempt.attempt_id
