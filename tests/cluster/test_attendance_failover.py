"""Attendance across a worker's death (issue 19): a member's connected time is counted
from committed state, so when her worker is killed and she comes back on another, the
minutes go on from where they were: nothing is counted twice, nothing is reset, and the
interval is closed when she leaves. Three real workers on one Redis, real time."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from server.store import keys
from tests.cluster.conftest import Cluster
from tests.support import Client

ROOM = "attendance-failover"


async def test_connected_time_goes_on_across_a_worker_failover(cluster: Cluster) -> None:
    started = time.monotonic()
    asha = await cluster.client(2, ROOM, "facilitator", "Asha", sub="asha-1")
    await asyncio.sleep(1.0)
    cluster.workers[2].kill()  # her worker dies mid-meeting
    back = Client(cluster.workers[0].url, asha.tok, name="Asha again")
    cluster.clients.append(back)
    await back.connect()
    assert (await back.call("join", {"room": ROOM}))["ok"]
    await asyncio.sleep(1.0)
    assert (await back.call("leave", {"room": ROOM}))["ok"]
    elapsed_ms = (time.monotonic() - started) * 1000
    r = aioredis.from_url(cluster.redis.url, decode_responses=True)
    try:
        for _ in range(50):  # the dead worker's sweep may commit a moment later
            if not await r.exists(keys.attendance_open(ROOM, "asha-1")):
                break
            await asyncio.sleep(0.1)
        assert not await r.exists(keys.attendance_open(ROOM, "asha-1")), "the interval is closed"
        mine = await r.zrange(keys.attendance_mine("asha-1"), 0, -1)
        assert len(mine) == 1 and mine[0].startswith(ROOM + "|")
        date = mine[0].split("|", 1)[1]
        record = await r.hgetall(keys.attendance_record(ROOM, date, "asha-1"))
        counted = int(record["ms"])
        # Both seconds counted (the time to come back may or may not be), never twice.
        assert 1800 <= counted <= elapsed_ms + 200, (counted, elapsed_ms)
        assert 0 < await r.pttl(keys.attendance_record(ROOM, date, "asha-1"))
    finally:
        await r.aclose()
    ack = await back.call("attendance.mine", {"room": ROOM})
    assert ack["ok"] and [m["room"] for m in ack["meetings"]] == [ROOM]
