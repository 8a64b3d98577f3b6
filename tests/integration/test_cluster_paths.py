"""Two workers in one process on one real Redis: the recovery paths of cluster.py that a
healthy cluster never takes, driven on purpose (a lost bus message, a bus link that was
down, a worker swept while it was only slow). The full multi-process runs are in
tests/cluster.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis

from server.app import create_app
from server.cluster import CLUSTER, Cluster
from server.config import Config
from server.store import keys
from server.store.redis import RedisStore
from tests.support import ADMIN_KEY, SECRET, Client, assert_contiguous, token

ROOM = "paths"


@dataclass
class Worker:
    url: str
    cluster: Cluster


@dataclass
class Pair:
    workers: list[Worker]
    clients: list[Client] = field(default_factory=list)

    async def client(self, worker: int, role: str, name: str) -> Client:
        c = Client(self.workers[worker].url, token(ROOM, role, name=name), name=name)
        self.clients.append(c)
        await c.connect()
        await c.join(ROOM)
        return c


@pytest.fixture
async def pair(redis_url: str, aiohttp_server: Any) -> AsyncIterator[Pair]:
    workers = []
    for i in range(2):
        app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY), store=RedisStore.from_url(redis_url),
                         worker_id=f"worker-{i}")
        srv = await aiohttp_server(app, host="127.0.0.1")
        await app[CLUSTER].bus.connected.wait()
        workers.append(Worker(f"http://127.0.0.1:{srv.port}", app[CLUSTER]))
    p = Pair(workers)
    yield p
    for c in p.clients:
        await c.close()


def dropping(cluster: Cluster, drop: Callable[[str], bool]) -> None:
    """Lose the bus messages ``drop`` picks, as a Redis blip would."""
    deliver = cluster.bus.on_message

    def on_message(data: str) -> None:
        if not drop(data):
            deliver(data)

    cluster.bus.on_message = on_message  # type: ignore[method-assign]


async def test_a_lost_bus_message_is_refilled_from_the_log(pair: Pair) -> None:
    fac = await pair.client(0, "facilitator", "Fay")
    ana = await pair.client(1, "member", "Ana")
    lost: list[str] = []

    def first_message(data: str) -> bool:
        if '"first"' in data and not lost:
            lost.append(data)
            return True
        return False

    dropping(pair.workers[1].cluster, first_message)
    for text in ("first", "second"):
        assert (await fac.call("chat.send", {"room": ROOM, "text": text}))["ok"]
    await ana.wait_event("chat.message", lambda e: e["data"]["text"] == "second")
    assert lost, "the test did not drop anything"
    assert [e["data"]["text"] for e in ana.events if e["type"] == "chat.message"] == ["first", "second"]
    assert_contiguous(ana.seqs())


async def test_what_was_committed_while_the_bus_was_down_arrives_on_reconnect(pair: Pair, redis_url: str) -> None:
    fac = await pair.client(0, "facilitator", "Fay")
    ana = await pair.client(1, "member", "Ana")
    down = [True]
    dropping(pair.workers[1].cluster, lambda d: down[0])
    for text in ("while down 1", "while down 2"):
        assert (await fac.call("chat.send", {"room": ROOM, "text": text}))["ok"]
    assert not [e for e in ana.events if e["type"] == "chat.message"]
    # The link comes back: the worker reconnects and reads what it missed, with no
    # further event to reveal the gap.
    down[0] = False
    pair.workers[1].cluster.bus.connected.clear()
    raw = aioredis.Redis.from_url(redis_url)
    try:
        await raw.client_kill_filter(_type="pubsub")
    finally:
        await raw.aclose()
    await ana.wait_for(lambda: sum(e["type"] == "chat.message" for e in ana.events) == 2)
    assert [e["data"]["text"] for e in ana.events if e["type"] == "chat.message"] == ["while down 1", "while down 2"]
    assert_contiguous(ana.seqs())


async def test_a_worker_swept_while_only_slow_puts_its_people_back(pair: Pair, redis_url: str) -> None:
    fac = await pair.client(0, "facilitator", "Fay")
    await pair.client(1, "member", "Ana")
    survivor, slow = pair.workers[0].cluster, pair.workers[1].cluster
    await slow.presence.beat()  # Ana is in its presence
    survivor.presence._beating_since = time.monotonic() - 60  # it has judged others for a while
    raw = aioredis.Redis.from_url(redis_url)
    try:
        swept: list[str] = []
        for _ in range(5):  # the slow worker's own heartbeat may land in between: try again
            await raw.zadd(keys.WORKERS, {"worker-1": 0})
            swept = await survivor.presence.sweep_once()
            if swept:
                break
        assert swept == ["worker-1"]
        away = await fac.wait_event("participant.updated", lambda e: e["data"]["participant"]["id"] == "Ana")
        assert away["data"]["participant"]["connected"] is False
        # The slow worker notices its presence is gone and re-asserts Ana, who never left.
        back = await fac.wait_event("participant.updated", lambda e: e["seq"] > away["seq"])
        assert back["data"]["participant"] == {**away["data"]["participant"], "connected": True}
        assert await raw.hexists(keys.conns("worker-1"), f"{ROOM}\nAna\nworker-1:" + _sid_of(pair, "Ana"))
    finally:
        await raw.aclose()


def _sid_of(pair: Pair, name: str) -> str:
    delivery = pair.workers[1].cluster.bus.delivery
    return next(sid for (room, pid), sid in delivery.people.items() if room == ROOM and pid == name)


async def test_every_key_a_worker_writes_has_a_ttl(pair: Pair, redis_url: str) -> None:
    fac = await pair.client(0, "facilitator", "Fay")
    await pair.client(1, "member", "Ana")
    assert (await fac.call("room.settings", {"room": ROOM, "share_seconds": 60}))["ok"]
    assert (await fac.call("hand.raise", {"room": ROOM}))["ok"]  # a deadline: the timers key
    assert (await fac.call("chat.send", {"room": ROOM, "text": "hello", "client_id": "c1"}))["ok"]
    held = await fac.call("chat.send", {"room": ROOM, "text": "see https://example.net/x", "client_id": "c2"})
    assert held["error"]["code"] == "held"  # a held text: the held key
    for w in pair.workers:
        await w.cluster.presence.beat()
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = sorted([k async for k in raw.scan_iter("*")])
        assert {keys.room(ROOM), keys.log(ROOM), keys.ROOMS, keys.TIMERS, keys.WORKERS,
                keys.conns("worker-0"), keys.conns("worker-1"), keys.client_ids(ROOM),
                keys.client_order(ROOM), keys.held(ROOM)} <= set(found)
        for key in found:
            assert key.startswith(keys.PREFIX), key
            assert await raw.pttl(key) > 0, key
    finally:
        await raw.aclose()
