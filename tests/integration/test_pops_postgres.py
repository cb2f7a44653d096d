"""Screen pops between processes: two hubs (as two processes would have) joined by
PostgreSQL LISTEN/NOTIFY on a real server."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from callcenter.pbx.pops import PgPopBridge, PopHub
from tests.support.waits import until

pytestmark = pytest.mark.postgres


async def test_a_pop_published_by_one_hub_reaches_the_other_hubs_subscriber(
    postgres_url: str,
) -> None:
    conninfo = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    listener_side, web_side = PopHub(), PopHub()
    bridges = [PgPopBridge(conninfo, hub) for hub in (listener_side, web_side)]
    for hub, bridge in zip((listener_side, web_side), bridges, strict=True):
        hub.bridge = bridge
    stop = asyncio.Event()
    tasks = [asyncio.create_task(b.run(stop)) for b in bridges]
    try:
        await until(lambda: all(b.connected for b in bridges), 10, "both hubs LISTENing")
        async with web_side.subscribe("op1") as op1, web_side.subscribe("op2") as op2:
            listener_side.publish({"kind": "ringing", "endpoint": "op1", "linkedid": "1.1",
                                   "caller_name": "Zażółć Gęślą"})  # fmt: skip
            pop = await asyncio.wait_for(op1.get(), 5)
            assert pop["caller_name"] == "Zażółć Gęślą"
            assert op2.empty()
    finally:
        stop.set()
        await asyncio.gather(*tasks)
