"""A draining worker (SIGTERM; issue 18): what its clients and its load balancer see.

The SIGTERM itself, with real processes and a member talking through it, is in
tests/cluster/test_drain.py; here the drain runs in-process, on both stores.
"""

from __future__ import annotations

import asyncio

import aiohttp

from server.gateway import keys
from tests.integration.conftest import Running
from tests.support import Client, token


async def test_a_draining_server_tells_its_clients_moves_them_and_takes_no_one_new(server: Running) -> None:
    room = "drain-here"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    assert (await ana.call("hand.raise", {"room": room}))["ok"]  # Ana holds the floor
    order: list[str] = []
    closed = asyncio.Event()
    ana.sio.on("server.draining", lambda data: order.append(f"told:{data['reason']}"))

    def gone(*args: object) -> None:
        order.append("disconnected")
        closed.set()

    ana.sio.on("disconnect", gone)
    gateway = server.app[keys.GATEWAY]
    await gateway.drain()
    await asyncio.wait_for(closed.wait(), 5)
    # Told first, then moved: the client reconnects at once and rejoins with `since`.
    assert order == ["told:restart", "disconnected"]
    assert ("server.draining", {"reason": "restart"}) in fac.private
    assert not fac.sio.connected or await fac.wait_for(lambda: not fac.sio.connected)

    # The load balancer is told to send nobody here, and nobody new gets in.
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/readyz") as r:
            assert r.status == 503 and await r.json() == {"status": "draining"}
    # Each goodbye committed a disconnect: Ana's grace runs and her floor waits for her.
    state = await server.app[keys.SERVICE].load(room)
    assert {pid: p.connected for pid, p in state.participants.items()} == {"Fay": False, "Ana": False}
    assert state.floor is not None and state.floor.participant_id == "Ana"
    late = Client(server.url, token(room, "member", name="Late"))
    assert not await late.try_connect()
    assert late.connect_error["code"] == "unavailable"
    assert "restarting" in late.connect_error["message"]
