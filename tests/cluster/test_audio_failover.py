"""Audio across workers (issue 8): one worker mixes a room whichever worker each socket
is on, and when that worker dies the clients renegotiate and are heard again.

Ana (440 Hz) is on worker 1, Ben (880 Hz) and Dee on worker 2, Cai listens on worker 0.
Dee offers first, so worker 2 holds the room's media lease; every other offer is
forwarded to it over Redis. Every peer offers 127.0.0.1 only.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from server.media.ice import candidate_addresses
from server.store import keys
from tests.cluster.conftest import Cluster
from tests.media.peers import AudioPeer, ToneTrack, tone_level
from tests.media.test_audio import A_HZ, B_HZ, QUIET, until_gone, until_heard
from tests.support import Client

ROOM = "audio-failover"


async def start_audio(client: Client, freq: float | None = None) -> AudioPeer:
    peer = AudioPeer(ToneTrack(freq) if freq else None)
    ack = await peer.connect(client.call, ROOM)
    assert ack["ok"], ack
    return peer


async def holder(cluster: Cluster) -> int:
    """Which worker holds the room's media lease (its id carries the process id)."""
    raw = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
    try:
        value = await raw.get(keys.media_lease(ROOM))
        ttl = await raw.pttl(keys.media_lease(ROOM))
    finally:
        await raw.aclose()
    assert value is not None and 0 < ttl <= keys.MEDIA_LEASE_MS
    return next(w.index for w in cluster.workers if w.proc is not None and f"-{w.proc.pid}-" in value)


async def test_one_worker_mixes_the_room_and_a_dead_one_is_replaced(cluster: Cluster) -> None:
    peers: list[AudioPeer] = []
    try:
        fac = await cluster.client(0, ROOM, "facilitator", "Fac")
        ana = await cluster.client(1, ROOM, "member", "Ana")
        ben = await cluster.client(2, ROOM, "member", "Ben")
        dee = await cluster.client(2, ROOM, "member", "Dee")
        cai = await cluster.client(0, ROOM, "member", "Cai")
        assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
        await fac.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ana")

        peers.append(await start_audio(dee))
        assert await holder(cluster) == 2
        a, b, c = await start_audio(ana, A_HZ), await start_audio(ben, B_HZ), await start_audio(cai)
        peers += [a, b, c]
        for p in peers:
            assert candidate_addresses(p.answer_sdp) == {"127.0.0.1"}

        # Ana's voice (socket on 1) reaches Cai (socket on 0) through worker 2's mix; Ben,
        # without the floor, is not forwarded; Ana does not hear herself.
        await until_heard(c.recorder, A_HZ, without=B_HZ, timeout=10)
        assert tone_level(await c.recorder.collect(1.0), B_HZ) < QUIET
        own = await a.recorder.collect(0.5)
        assert tone_level(own, A_HZ) < QUIET and tone_level(own, B_HZ) < QUIET

        # The floor moves by commands on other workers; the mixing worker follows.
        assert (await ben.call("hand.raise", {"room": ROOM}))["ok"]
        assert (await ana.call("floor.yield", {"room": ROOM}))["ok"]
        yielded = time.perf_counter()
        await until_heard(c.recorder, B_HZ, without=A_HZ, timeout=5)
        await until_heard(a.recorder, B_HZ, without=A_HZ, timeout=5)
        print(f"floor passed across workers: heard on worker 0 after {time.perf_counter() - yielded:.2f} s")
        assert (await ben.call("floor.yield", {"room": ROOM}))["ok"]
        await until_gone(c.recorder, B_HZ, timeout=2)
        assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
        await until_heard(c.recorder, A_HZ, without=B_HZ, timeout=5)

        # The mixing worker dies. Ana's and Cai's workers see its lease run out and tell
        # them to renegotiate; their new offers land on a live worker.
        cluster.workers[2].kill()
        killed = time.perf_counter()
        await ana.wait_private("rtc.restart", timeout=10)
        await cai.wait_private("rtc.restart", timeout=10)
        assert ("rtc.restart", {"room": ROOM, "reason": "moved"}) in cai.private
        a2 = await start_audio(ana, A_HZ)
        c2 = await start_audio(cai)
        peers += [a2, c2]
        assert await holder(cluster) in (0, 1)
        await until_heard(c2.recorder, A_HZ, timeout=10)
        resumed = time.perf_counter() - killed
        print(f"audio resumed {resumed:.2f} s after the mixing worker was killed")
        assert resumed < 10
        own = await a2.recorder.collect(0.5)
        assert tone_level(own, A_HZ) < QUIET
    finally:
        for p in peers:
            await p.close()
