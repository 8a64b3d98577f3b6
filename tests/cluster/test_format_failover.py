"""A meeting's format runs on, once and in order, when the chair's worker dies (issue 17):
three real worker processes on one Redis; the member chairing the meeting is on the worker
that is killed, comes back on another and moves the meeting on; every member's log holds
each part exactly once, in order."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.cluster.conftest import Cluster
from tests.support import ADMIN_KEY, Client

ROOM = "failover-circle"


def parts(c: Client) -> list[tuple[str, int]]:
    return [(e["type"], e["data"]["index"]) for e in c.events
            if e["room"] == ROOM and e["type"] in ("format.started", "format.segment")]


async def test_the_chair_moves_the_meeting_on_from_another_worker_after_hers_dies(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        for method, path, body in (("POST", "/api/rooms", {"id": ROOM}),
                                   ("PUT", f"/api/rooms/{ROOM}/format", {"template": "smart"})):
            async with http.request(method, cluster.workers[1].url + path, json=body,
                                    headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
                assert r.status in (200, 201), await r.text()
    fac = await cluster.client(1, ROOM, "facilitator", "Meera", sub="meera")
    chair = await cluster.client(2, ROOM, "member", "Asha", sub="asha")
    members = [await cluster.client(i, ROOM, "member", f"M{i}", sub=f"m{i}") for i in (0, 1)]
    assert (await fac.call("participant.service", {"room": ROOM, "participant": "asha", "service": "chair"}))["ok"]
    await chair.wait_event("participant.updated", lambda e: e["data"]["participant"].get("service") == "chair")
    assert (await chair.call("format.start", {"room": ROOM}))["ok"]
    assert (await chair.call("format.advance", {"room": ROOM}))["ok"]
    for m in members:
        await m.wait_for(lambda m=m: len(parts(m)) == 2)

    cluster.workers[2].kill()  # the chair's worker dies mid-meeting
    back = Client(cluster.workers[0].url, chair.tok, name="Asha again")
    cluster.clients.append(back)
    await back.connect()
    ack: dict[str, Any] = await back.call("join", {"room": ROOM})
    assert ack["ok"], ack
    # Still the chair (within the reconnect grace), and the meeting is where she left it.
    assert ack["you"].get("service") == "chair" and ack["room"]["format"]["index"] == 1
    assert (await back.call("format.advance", {"room": ROOM}))["ok"]
    for m in members:
        await m.wait_for(lambda m=m: len(parts(m)) == 3)
        assert parts(m) == [("format.started", 0), ("format.segment", 1), ("format.segment", 2)]
        seqs = [e["seq"] for e in m.events if e["room"] == ROOM]
        assert seqs == sorted(set(seqs)), "each event once, in order"
