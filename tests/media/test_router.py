"""The media lease across workers, with two in-process workers sharing one redis-server.

(``tests/cluster/test_audio_failover.py`` does the same with real worker processes and
a ``kill -9``.) Every peer offers 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from server.config import MediaConfig
from server.gateway import keys as app_keys
from server.media.router import MediaRouter
from server.store import keys
from server.store.redis import RedisStore
from tests.integration.conftest import STORES, MakeServer, Running
from tests.media.conftest import MakePeer
from tests.media.test_audio import A_HZ, until_heard

pytestmark = pytest.mark.skipif("redis" not in STORES, reason="the media lease lives in Redis")
ROOM = "circle"
LOOPBACK = MediaConfig(host_candidates=("127.0.0.1",))


def router_of(server: Running) -> MediaRouter:
    media = server.app[app_keys.DELIVERY].media
    assert isinstance(media, MediaRouter)
    return media


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def two_workers(make_server: MakeServer, redis_url: str) -> tuple[Running, Running]:
    return (await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url)),
            await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url)))


async def until(pred: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Poll state that no event announces (another worker's, Redis's) until ``pred()``."""
    deadline = time.monotonic() + timeout
    while not await pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_offers_on_any_worker_end_on_the_lease_holder_and_the_lease_goes_with_the_last_peer(
        make_server: MakeServer, redis_url: str, raw: aioredis.Redis, audio: MakePeer) -> None:
    one, two = await two_workers(make_server, redis_url)
    await one.client(ROOM, "facilitator", "Fac")
    ana = await one.client(ROOM, "member", "Ana")
    cai = await two.client(ROOM, "member", "Cai")
    assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
    await audio(ana, ROOM, A_HZ)
    c = await audio(cai, ROOM)

    holder = router_of(one)
    assert await raw.get(keys.media_lease(ROOM)) == holder.worker_id
    assert set(holder.hub.rooms[ROOM].peers) == {"Ana", "Cai"}  # Cai's socket is on `two`
    assert not router_of(two).hub.serves(ROOM)
    assert router_of(two).remote == {(ROOM, "Cai"): holder.worker_id}
    assert one.app[app_keys.METRICS].registry.get_sample_value("circles_media_peers") == 2
    assert two.app[app_keys.METRICS].registry.get_sample_value("circles_media_peers") == 0
    await until_heard(c.recorder, A_HZ, timeout=10)

    # Cai's rtc.close on `two` ends her peer on `one`; Ana's last peer lets the lease go.
    assert (await cai.call("rtc.close", {"room": ROOM}))["ok"]
    assert router_of(two).remote == {}

    async def cai_gone() -> bool:
        return not holder.hub.has_peer(ROOM, "Cai")
    await until(cai_gone)
    assert (await ana.call("leave", {"room": ROOM}))["ok"]

    async def released() -> bool:
        return bool(await raw.exists(keys.media_lease(ROOM)) == 0)
    await until(released)
    assert not holder.hub.serves(ROOM)


async def test_an_offer_forwarded_to_a_dead_holder_is_served_once_its_lease_runs_out(
        make_server: MakeServer, redis_url: str, raw: aioredis.Redis, audio: MakePeer) -> None:
    server = await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url))
    await server.client(ROOM, "facilitator", "Fac")
    ana = await server.client(ROOM, "member", "Ana")
    # A worker that died a moment ago still holds the lease for up to MEDIA_LEASE_MS.
    await raw.set(keys.media_lease(ROOM), "ghost-worker", px=1500)
    started = time.monotonic()
    await audio(ana, ROOM, A_HZ)
    took = time.monotonic() - started
    assert await raw.get(keys.media_lease(ROOM)) == router_of(server).worker_id
    assert 1.0 < took < 5.0, took


async def test_a_holder_that_loses_its_lease_closes_the_room_and_tells_its_people(
        make_server: MakeServer, redis_url: str, raw: aioredis.Redis, audio: MakePeer) -> None:
    server = await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url))
    await server.client(ROOM, "facilitator", "Fac")
    ana = await server.client(ROOM, "member", "Ana")
    await audio(ana, ROOM, A_HZ)
    router = router_of(server)
    assert router.hub.serves(ROOM)
    # Redis lost the key (a restart that kept nothing); another worker took the room.
    await raw.set(keys.media_lease(ROOM), "other-worker", px=10_000)
    await router.check()
    assert not router.hub.serves(ROOM)
    restart = await ana.wait_private("rtc.restart")
    assert restart == {"room": ROOM, "reason": "moved"}
    registry = server.app[app_keys.METRICS].registry
    assert registry.get_sample_value("circles_media_restarts_total") == 1
    assert registry.get_sample_value("circles_media_rooms") == 0


async def test_a_close_from_a_socket_the_person_has_left_does_not_end_their_new_audio(
        make_server: MakeServer, redis_url: str, audio: MakePeer) -> None:
    server = await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url))
    await server.client(ROOM, "facilitator", "Fac")
    ana = await server.client(ROOM, "member", "Ana")
    await audio(ana, ROOM, A_HZ)
    router = router_of(server)
    # Ana's earlier socket, on a worker she has since left, says goodbye late.
    router.on_bus({"op": "close", "room": ROOM, "participant": "Ana", "from": "her-old-worker", "id": "x"})
    await router._tasks.wait()
    assert router.hub.has_peer(ROOM, "Ana")
    assert router.via == {(ROOM, "Ana"): router.worker_id}


async def test_the_lease_is_kept_while_the_first_offer_of_a_room_is_being_answered(
        make_server: MakeServer, redis_url: str, raw: aioredis.Redis) -> None:
    from tests.media.peers import AudioPeer

    server = await make_server(media=LOOPBACK, store=RedisStore.from_url(redis_url))
    await server.client(ROOM, "facilitator", "Fac")
    await server.client(ROOM, "member", "Ana")
    router = router_of(server)
    # The hub's answer is held at its start (loading the room, making the peer take
    # that long on a busy worker), while the watch runs.
    release = asyncio.Event()
    answer = router.hub.offer

    async def held(*args: Any) -> dict[str, Any]:
        await release.wait()
        return await answer(*args)

    router.hub.offer = held  # type: ignore[method-assign]
    peer = AudioPeer()
    try:
        offer = asyncio.ensure_future(router.offer(ROOM, "Ana", await peer.make_offer(), "offer"))
        while ROOM not in router._answering:  # noqa: ASYNC110 - the offer's first steps
            await asyncio.sleep(0)
        assert not router.hub.serves(ROOM)  # no peer yet: the watch must not let go
        await router.check()
        release.set()
        await offer
        assert await raw.get(keys.media_lease(ROOM)) == router.worker_id
        assert router.hub.has_peer(ROOM, "Ana")
    finally:
        await peer.close()
