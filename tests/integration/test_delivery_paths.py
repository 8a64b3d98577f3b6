"""Both ways a packet reaches a socket keep the contract's order (§5): written straight
to the socket when nothing waits before it (``wsdriver.DirectQueue``, the default), or
through Engine.IO's queue and writer task (``direct_write=False``, and what the direct
path falls back to whenever anything is queued).
"""

from __future__ import annotations

import asyncio

import pytest

from server.gateway import keys
from server.wsdriver import DirectQueue
from tests.integration.conftest import MakeServer, Running
from tests.support import assert_contiguous

ROOM = "paths"


def direct_writes(server: Running) -> int:
    queues = [s.queue for s in server.app[keys.SIO].eio.sockets.values()]
    return sum(q.direct_writes for q in queues if isinstance(q, DirectQueue))


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "queued"])
async def test_bursts_from_everyone_arrive_in_one_order_and_a_late_joiner_misses_nothing(
        make_server: MakeServer, direct: bool) -> None:
    server = await make_server(direct_write=direct, moderation={"pipeline": []})
    fac = await server.client(ROOM, "facilitator", "Fac")
    people = [fac] + [await server.client(ROOM, "member", f"M{i}") for i in range(3)]

    async def burst(i: int) -> list[dict[str, object]]:
        c = people[i]
        acks = []
        for n in range(8):
            acks.append(await c.call("chat.send", {"room": ROOM, "text": f"{i}-{n}", "client_id": f"{i}-{n}"}))
            acks.append(await c.call("hand.raise" if n % 2 == 0 else "hand.lower", {"room": ROOM}))
        return acks

    # Everyone sends at once, and someone joins in the middle of it.
    bursts = asyncio.gather(*(burst(i) for i in range(len(people))))
    late = await server.client(ROOM, "member", "Late", join=False)
    joined = await late.join(ROOM)
    results = await bursts
    assert all(a["ok"] for acks in results for a in acks), results

    top = max(e["seq"] for e in fac.events)
    everyone = [*people, late]
    for c in everyone:
        await c.wait_for(lambda c=c: c.events and c.events[-1]["seq"] >= top)
        assert_contiguous(c.seqs(ROOM))
    # Every member saw the same log; the late joiner's starts right after its snapshot.
    logs = [[(e["seq"], e["type"]) for e in c.events if e["seq"] > joined["room"]["seq"]] for c in everyone]
    assert all(log == logs[0] for log in logs)
    assert late.events[0]["seq"] == joined["room"]["seq"] + 1

    if direct:
        assert direct_writes(server) > 0
    else:
        queues = [s.queue for s in server.app[keys.SIO].eio.sockets.values()]
        assert queues and not any(q.direct for q in queues) and direct_writes(server) == 0


async def test_a_listener_whose_packets_all_go_straight_through_stays_connected(make_server: MakeServer) -> None:
    # Engine.IO's writer gives a connection up when its queue stays empty for
    # ping_interval + ping_timeout (40 s in production; 1.2 s here): the pings must
    # still go through it while every message is written directly.
    server = await make_server(moderation={"pipeline": []})
    eio = server.app[keys.SIO].eio
    eio.ping_interval, eio.ping_timeout = 0.4, 0.8
    talker = await server.client(ROOM, "facilitator", "Fac")
    listener = await server.client(ROOM, "member", "Lis")
    for n in range(12):  # ~3 s, well past 1.2 s, and past several pings
        assert (await talker.call("chat.send", {"room": ROOM, "text": f"m{n}", "client_id": f"c{n}"}))["ok"]
        await listener.wait_event("chat.message", lambda e, n=n: e["data"]["text"] == f"m{n}")
        await asyncio.sleep(0.25)  # a slow conversation: time passing is the point here
    assert listener.sio.connected
    assert direct_writes(server) >= 12
    registry = server.app[keys.METRICS].registry
    assert not registry.get_sample_value("circles_disconnects_total", {"reason": "transport close"})
