"""Many workers, one server: cross-worker delivery, presence and failover through Redis.

Built on the single-worker pieces, not beside them (LiveKit's ``RedisRouter`` embeds its
``LocalRouter``):

- ``RedisPublisher`` wraps the local publisher. The committing worker delivers its own
  events and notices at once; the commit script has already published the events on
  the bus (atomically with the commit, so a committed batch is always published once);
  this publisher adds the private notices, which are not part of the log.
- ``Cluster.listen`` is one subscriber per worker on the bus. It hands other workers'
  events to the gateway (whose fan-out orders them by ``seq``, drops duplicates and
  fills gaps from the store's log) and their notices to the gateway's notice routing.
  When its connection comes back after a drop, it re-reads, for every room this worker
  has clients in, whatever was committed meanwhile.
- Audio signalling for a room goes to the one worker holding its media lease
  (``media/router.py``), as ``M`` messages on the same bus.
- ``Cluster.heartbeat`` records every second that this worker lives, and which
  (room, participant, connection) it holds. ``Cluster.sweep`` finds workers that
  stopped beating and, one survivor per dead worker, disconnects their people: the
  same ``Disconnect`` a closing socket commits, so a floor holder's reconnect grace
  starts, and a person who already came back on another worker is left alone (the
  core ignores a disconnect of a connection that is no longer theirs).

Key layout and lifetimes: ``store/keys.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Final, cast

from aiohttp import web
from redis import exceptions as rex

from .core import commands as c
from .core.errors import CommandError
from .core.model import ROLES, Event, Notice, Target
from .gateway.socket import SocketGateway
from .media.router import MediaRouter
from .service import Publisher, RoomService
from .store import StoreUnavailable, keys
from .store.redis import OP_TIMEOUT_S, UNREACHABLE, RedisStore, unreachable_is_unavailable

log = logging.getLogger("circles.cluster")

# Other workers set deadlines this one hears nothing of: look at the timers this often.
SCHEDULER_POLL_MS: Final = 150
HEARTBEAT_S: Final = 1.0
SWEEP_S: Final = 1.0
# A quiet bus connection is pinged this often, and given up for dead (and reopened)
# when nothing at all came back for the second figure: a half-open TCP connection
# would otherwise swallow every message silently.
BUS_PING_S: Final = 1.0
BUS_SILENT_S: Final = 3.0
# Reconnect backoff of the bus listener, from the first figure doubling to the second.
BACKOFF_MIN_S: Final = 0.05
BACKOFF_MAX_S: Final = 2.0
# A sweep commits a disconnect for each person of a dead worker: more than one round trip.
SWEEP_TIMEOUT_S: Final = 20.0

_BEAT: Final = """
-- KEYS: workers, this worker's conns. ARGV: worker id, ttl ms.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local has = redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {added, has}
"""

_DEAD: Final = """
-- KEYS: workers. ARGV: dead after ms. Redis's clock, so machines' clocks do not matter.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
"""

_SWEPT: Final = """
-- KEYS: workers, the dead worker's conns. ARGV: worker id, dead after ms.
-- Its conns go in any case (a worker that was only slow sees them gone, and re-asserts
-- its people); its heartbeat entry only if it is still stale.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('DEL', KEYS[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < now - tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
"""


def notice_to_wire(n: Notice) -> dict[str, Any]:
    return {"event": n.event, "to": dataclasses.asdict(n.to), "data": dict(n.data)}


def notice_from_wire(d: dict[str, Any]) -> Notice:
    return Notice(event=d["event"], to=Target(**d["to"]), data=d["data"])


# Events after which this worker's presence (who it holds) may have changed.
MEMBERSHIP: Final = frozenset({"participant.joined", "participant.left", "participant.updated"})


class RedisPublisher:
    """Local delivery first (no hop for this worker's clients), then the bus for notices."""

    def __init__(self, local: Publisher, store: RedisStore) -> None:
        self.local = local
        self.store = store
        # Told when a local commit changed who is in a room, so that presence is written
        # at once rather than at the next heartbeat (a worker may die within that second).
        self.on_membership: Callable[[], None] = lambda: None

    async def publish(self, room_id: str, events: Sequence[Event], notices: Sequence[Notice]) -> None:
        await self.local.publish(room_id, events, notices)
        if any(e.type in MEMBERSHIP for e in events):
            self.on_membership()
        if not notices:
            return
        try:
            body = json.dumps([notice_to_wire(n) for n in notices], separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            log.exception("notice not serialisable", extra={"room": room_id})
            return
        try:
            async with asyncio.timeout(OP_TIMEOUT_S):
                await self.store.redis.publish(keys.BUS, f"N|{self.store.origin}|{body}")
        except UNREACHABLE as e:
            # Committed, delivered here; others miss these private notices (they are
            # not in the log). Say so; the command itself succeeded.
            log.warning("notices not published", extra={"room": room_id, "count": len(notices),
                                                        "reason": type(e).__name__})


class Cluster:
    """This worker's part in the cluster: bus listener, heartbeat, sweeper."""

    def __init__(self, store: RedisStore, service: RoomService, gateway: SocketGateway, worker_id: str,
                 media: MediaRouter | None = None) -> None:
        self.store = store
        # Audio signalling between workers, and the watch on media leases.
        self.media = media
        self.service = service
        self.gateway = gateway
        self.worker_id = worker_id
        self.bus_connected = asyncio.Event()
        self._beat = store.redis.register_script(_BEAT)
        self._dead = store.redis.register_script(_DEAD)
        self._swept = store.redis.register_script(_SWEPT)
        # The presence this worker last wrote, field -> role; None: write it all.
        self._written: dict[str, str] | None = None
        # Since when heartbeats have succeeded without a break (monotonic); None: broken.
        self._beating_since: float | None = None
        # Our presence was found gone; our people must be re-asserted (until done).
        self._lost = False
        self._uncertain: set[str] = set()
        self._poke = asyncio.Event()
        store.on_uncertain = self._on_uncertain
        if isinstance(service.publisher, RedisPublisher):
            service.publisher.on_membership = self.presence_changed

    # -- the bus ---------------------------------------------------------------------------------

    async def listen(self) -> None:
        """Forever: subscribe, catch up, pump messages; on any drop, back off and repeat."""
        backoff = BACKOFF_MIN_S
        while True:
            client = self.store.connector.client(retries=0)
            pubsub = client.pubsub()
            try:
                async with asyncio.timeout(OP_TIMEOUT_S):
                    await pubsub.subscribe(keys.BUS)
                await self._confirmed(pubsub)
                self.bus_connected.set()
                await self._ensure_rooms()
                await self._resync_all()
                backoff = BACKOFF_MIN_S
                await self._pump(pubsub)
            except (rex.RedisError, StoreUnavailable, OSError) as e:
                if self.bus_connected.is_set():
                    log.warning("bus connection lost", extra={"reason": type(e).__name__})
            except Exception:  # a bug must not end cross-worker delivery for good
                log.exception("bus listener failed")
            finally:
                self.bus_connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _confirmed(self, pubsub: Any) -> None:
        deadline = time.monotonic() + BUS_SILENT_S
        while time.monotonic() < deadline:
            msg = await pubsub.get_message(timeout=BUS_PING_S)
            if msg is not None and msg["type"] == "subscribe":
                return
        raise rex.TimeoutError("no subscribe confirmation")

    async def _pump(self, pubsub: Any) -> None:
        heard = pinged = time.monotonic()
        while True:
            msg = await pubsub.get_message(timeout=BUS_PING_S)
            now = time.monotonic()
            if msg is None:
                if now - heard > BUS_SILENT_S:
                    raise rex.TimeoutError("bus silent")
                if now - pinged >= BUS_PING_S:
                    await pubsub.ping()
                    pinged = now
                continue
            heard = now
            if msg["type"] == "message":
                self.on_message(msg["data"])

    def on_message(self, data: str) -> None:
        """One bus message. Never raises: one bad message must not stop the listener."""
        try:
            kind, _, rest = data.partition("|")
            origin, _, rest = rest.partition("|")
            if origin == self.store.origin:
                return  # delivered here already, before it was published
            if kind == "E":
                room, _, body = rest.partition("|")
                # Most workers have nobody in most rooms: skip those without decoding.
                if room in self.gateway.fanout.channels or self.gateway.media.serves(room):
                    self.gateway.receive(room, json.loads(body))
            elif kind == "N":
                for d in json.loads(rest):
                    self.gateway.deliver_notice(notice_from_wire(d))
            elif kind == "M":
                target, _, body = rest.partition("|")
                if target == self.worker_id and self.media is not None:
                    self.media.on_bus(json.loads(body))
        except Exception:
            log.exception("bad bus message")

    async def _ensure_rooms(self) -> None:
        try:
            await self.service.ensure_configured()
        except CommandError as e:
            if e.code == "unavailable":
                raise StoreUnavailable(e.message) from None
            raise

    async def _resync_all(self) -> None:
        """After the bus was away: close every local room's gap from the store's log."""
        for room in list(self.gateway.fanout.channels):
            await self.resync(room)
        self.gateway.media.recheck()

    async def resync(self, room: str) -> None:
        ch = self.gateway.fanout.channels.get(room)
        if ch is None or ch.delivered is None:
            return
        top = await self.store.seq(room)
        if top is not None and top >= ch.delivered and await self.gateway.fanout.resync(room):
            return
        # The room is gone (Redis lost its data) or its log cannot close the gap: tell
        # the truth the only way the protocol has. The clients reconnect and rejoin with
        # `since`, and get a reset snapshot (or not_found until a facilitator's join
        # makes the room again).
        sids = self.gateway.fanout.subscribers(room)
        log.warning("room history lost; clients must rejoin", extra={"room": room, "count": len(sids)})
        for sid in sids:
            await self.gateway.sio.disconnect(sid)

    def _on_uncertain(self, room: str) -> None:
        self._uncertain.add(room)

    # -- presence --------------------------------------------------------------------------------

    def presence_changed(self) -> None:
        """Someone joined or left here: write presence now rather than at the next beat."""
        self._poke.set()

    def presence(self) -> dict[str, str]:
        """``<room>\\n<participant>\\n<conn>`` -> role, for every person this worker holds."""
        out: dict[str, str] = {}
        for (room, pid), sid in self.gateway.people.items():
            conn = self.gateway.conns.get(sid)
            if conn is not None:
                out[f"{room}\n{pid}\n{conn.conn_id}"] = conn.who.role
        return out

    async def heartbeat(self) -> None:
        """Forever: beat every second (or at once when poked)."""
        while True:
            self._poke.clear()
            try:
                await self.beat()
            except (StoreUnavailable, rex.RedisError, OSError) as e:
                if self._beating_since is not None:
                    log.warning("heartbeat failed", extra={"reason": type(e).__name__})
                self._beating_since = None
            except Exception:
                log.exception("heartbeat failed")
                self._beating_since = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_S):
                    await self._poke.wait()

    async def beat(self) -> None:
        redis = self.store.redis
        conns_key = keys.conns(self.worker_id)
        async with unreachable_is_unavailable("heartbeat"):
            _, has = await self._beat(keys=[keys.WORKERS, conns_key], args=[self.worker_id, keys.PRESENCE_TTL_MS])
            if self._beating_since is None:
                self._beating_since = time.monotonic()
            now = self.presence()
            # Our presence vanished: a survivor swept us while we were slow, or Redis lost
            # its data. Either way people here may have been marked disconnected.
            if not has and self._written:
                self._lost = True
            if not has:
                self._written = None
            written = self._written or {}
            added = {f: r for f, r in now.items() if written.get(f) != r}
            gone = [f for f in written if f not in now]
            if added or gone:
                async with redis.pipeline(transaction=True) as p:
                    if added:
                        p.hset(conns_key, mapping=cast(Any, added))
                    if gone:
                        p.hdel(conns_key, *gone)
                    p.pexpire(conns_key, keys.PRESENCE_TTL_MS)
                    await p.execute()
            self._written = now
        if self._lost:
            await self._reassert()
            self._lost = False
        for room in list(self._uncertain):
            await self.resync(room)
            self._uncertain.discard(room)

    async def _reassert(self) -> None:
        """Mark our people connected again where a sweep marked them gone."""
        count = 0
        for (room, pid), sid in list(self.gateway.people.items()):
            conn = self.gateway.conns.get(sid)
            if conn is None or room not in conn.rooms:
                continue
            state = await self.store.load(room)
            p = state.participants.get(pid) if state is not None else None
            if p is None or p.connected or p.conn != conn.conn_id:
                continue
            try:
                await self.service.execute(room, conn.actor(), c.Join())
                count += 1
            except CommandError as e:
                if e.code == "unavailable":
                    raise StoreUnavailable(e.message) from None
                # refused (banned meanwhile, room ended): nothing to put back
        log.warning("presence was lost; re-asserted", extra={"count": count})

    # -- failover --------------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Forever: look for dead workers every second."""
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep_once()
            except (StoreUnavailable, rex.RedisError, OSError):
                pass  # the heartbeat says so; try again next time
            except Exception:
                log.exception("sweep failed")

    async def sweep_once(self) -> list[str]:
        # Only a worker that has itself been beating for a while may judge others: just
        # after Redis comes back, everyone's last beat is old, and nobody is dead.
        if self._beating_since is None or time.monotonic() - self._beating_since < keys.WORKER_DEAD_MS / 1000:
            return []
        redis = self.store.redis
        swept = []
        async with unreachable_is_unavailable("sweep", timeout=SWEEP_TIMEOUT_S):
            dead = await self._dead(keys=[keys.WORKERS], args=[keys.WORKER_DEAD_MS])
            for worker in dead:
                if worker == self.worker_id:
                    continue
                if not await redis.set(keys.sweep_lock(worker), self.worker_id, nx=True, px=keys.SWEEP_LOCK_MS):
                    continue  # another survivor has it
                entries = cast(dict[str, str], await redis.hgetall(keys.conns(worker)))
                try:
                    await self._disconnect_all(entries)
                except StoreUnavailable:
                    await redis.delete(keys.sweep_lock(worker))
                    raise
                await self._swept(keys=[keys.WORKERS, keys.conns(worker)], args=[worker, keys.WORKER_DEAD_MS])
                log.info("swept a dead worker", extra={"worker": worker, "count": len(entries)})
                swept.append(worker)
        return swept

    async def _disconnect_all(self, entries: dict[str, str]) -> None:
        by_room: dict[str, list[c.Actor]] = defaultdict(list)
        for field, role in entries.items():
            room, _, rest = field.partition("\n")
            pid, _, conn = rest.partition("\n")
            by_room[room].append(c.Actor(id=pid, role=role if role in ROLES else "member", conn=conn))

        async def one_room(room: str, actors: list[c.Actor]) -> None:
            for actor in actors:  # one room's commits in turn; rooms side by side
                try:
                    await self.service.execute(room, actor, c.Disconnect())
                except CommandError as e:
                    if e.code == "unavailable":
                        raise StoreUnavailable(e.message) from None
                    # not_found: the room ended meanwhile; others: nothing to undo

        await asyncio.gather(*(one_room(r, a) for r, a in by_room.items()))

    async def leave(self) -> None:
        """A clean shutdown: nobody needs to sweep us."""
        with contextlib.suppress(Exception):
            async with self.store.redis.pipeline(transaction=True) as p:
                p.zrem(keys.WORKERS, self.worker_id)
                p.delete(keys.conns(self.worker_id))
                await p.execute()


async def stop(tasks: Sequence[asyncio.Task[None]], within_s: float = 5.0) -> None:
    """Cancel and await background tasks. Cancels again while one still runs: a library
    that swallows a cancellation (Python 3.11's wait_for can) must not hang a shutdown."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        pending = [t for t in tasks if not t.done()]
        if not pending:
            break
        for t in pending:
            t.cancel()
        await asyncio.wait(pending, timeout=0.1)
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception() is not None:
            log.error("background task failed", extra={"event": t.get_name()})


CLUSTER: Final = web.AppKey("cluster", Cluster)


def setup(app: web.Application, cluster: Cluster) -> None:
    """Run the cluster's background tasks for as long as the app runs."""
    app[CLUSTER] = cluster

    async def cluster_ctx(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(cluster.listen(), name="circles-bus"),
                 asyncio.create_task(cluster.heartbeat(), name="circles-heartbeat"),
                 asyncio.create_task(cluster.sweep(), name="circles-sweeper")]
        if cluster.media is not None:
            tasks.append(asyncio.create_task(cluster.media.run(), name="circles-media-leases"))
        yield
        await stop(tasks)
        await cluster.leave()

    app.cleanup_ctx.append(cluster_ctx)
