"""Presence and failover: which people each worker holds, and who notices a dead worker.

- ``Presence.heartbeat`` records every second that this worker lives, and which (room,
  participant, connection) it holds; at once, too, when who it holds changes (a worker
  may die within that second).
- It records, too, which responders are on duty on this worker (``keys.duty``), so that
  ``Presence.on_duty`` can tell the admin API who is on duty on any live worker.
- ``Presence.sweep`` finds workers that stopped beating and, one survivor per dead
  worker, disconnects their people: the same ``Disconnect`` a closing socket commits, so
  a floor holder's reconnect grace starts, and a person who already came back on another
  worker is left alone (the core ignores a disconnect of a connection that is no longer
  theirs).

Key layout and lifetimes: ``store/keys.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import Any, Final, cast

from redis import exceptions as rex

from ..core import commands as c
from ..core.errors import CommandError
from ..core.model import ROLES
from ..delivery import LocalDelivery, OnDuty, merge_duty
from ..service import RoomService
from ..store import StoreUnavailable, keys
from ..store.redis import RedisStore, unreachable_is_unavailable
from ..tasks import every
from .status import StoreStatus

log = logging.getLogger("circles.cluster")

HEARTBEAT_S: Final = 1.0
SWEEP_S: Final = 1.0
# A sweep commits a disconnect for each person of a dead worker: more than one round trip.
SWEEP_TIMEOUT_S: Final = 20.0

_BEAT: Final = """
-- KEYS: workers, this worker's conns, this worker's duty. ARGV: worker id, ttl ms.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local has = redis.call('PEXPIRE', KEYS[2], ARGV[2])
local has_duty = redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {added, has, has_duty}
"""

_DEAD: Final = """
-- KEYS: workers. ARGV: dead after ms. Redis's clock, so machines' clocks do not matter.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
"""

_SWEPT: Final = """
-- KEYS: workers, the dead worker's conns, its duty. ARGV: worker id, dead after ms.
-- Its conns and duty go in any case (a worker that was only slow sees them gone, and
-- re-asserts its people and writes its duty again); its heartbeat entry only if it is
-- still stale.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('DEL', KEYS[2], KEYS[3])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < now - tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
"""


_ON_DUTY: Final = """
-- KEYS: workers. ARGV: dead after ms, duty key prefix. Every live worker's duty, as
-- worker, responder, {name, since} triples; a worker that stopped beating is skipped
-- (its duty ended with it, whether or not it has been swept yet).
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')) do
  local h = redis.call('HGETALL', ARGV[2] .. w)
  for j = 1, #h, 2 do
    out[#out + 1] = w
    out[#out + 1] = h[j]
    out[#out + 1] = h[j + 1]
  end
end
return out
"""


class Presence:
    """This worker's heartbeat and its part in sweeping dead workers."""

    def __init__(self, store: RedisStore, service: RoomService, delivery: LocalDelivery[Any],
                 worker_id: str, status: StoreStatus | None = None) -> None:
        self.store = store
        # Told after every beat whether the store answered (``status.py``).
        self.status = status
        self.service = service
        self.delivery = delivery
        self.worker_id = worker_id
        self._beat = store.redis.register_script(_BEAT)
        self._dead = store.redis.register_script(_DEAD)
        self._swept = store.redis.register_script(_SWEPT)
        self._on_duty = store.redis.register_script(_ON_DUTY)
        # The presence this worker last wrote, field -> role; None: write it all.
        self._written: dict[str, str] | None = None
        # The duty this worker last wrote, responder -> JSON; None: write it all.
        self._duty_written: dict[str, str] | None = None
        # Since when heartbeats have succeeded without a break (monotonic); None: broken.
        self._beating_since: float | None = None
        # Our presence was found gone; our people must be re-asserted (until done).
        self._lost = False
        # Rooms whose last commit's fate was unknown, to re-read once Redis answers.
        self._uncertain: set[str] = set()

    def presence(self) -> dict[str, str]:
        """``<room>\\n<participant>\\n<conn>`` -> role, for every person this worker holds."""
        return {f"{room}\n{conn.who.sub}\n{conn.conn_id}": conn.who.role for room, conn in self.delivery.held()}

    async def heartbeat(self) -> None:
        """Forever: beat every second, and at once when who this worker holds changes."""
        changed = self.delivery.membership
        while True:
            changed.clear()
            started = time.monotonic()
            try:
                await self.beat()
                if self.status is not None:
                    self.status.succeeded()
            except (StoreUnavailable, rex.RedisError, OSError) as e:
                if self._beating_since is not None:
                    log.warning("heartbeat failed", extra={"reason": type(e).__name__})
                self._beating_since = None
                if self.status is not None:
                    self.status.failed(started)
            except Exception:
                log.exception("heartbeat failed")
                self._beating_since = None
            if self.status is not None:
                try:
                    await self.status.check()
                except Exception:
                    log.exception("store status failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_S):
                    await changed.wait()

    def duty(self) -> dict[str, str]:
        """responder -> JSON ``{name, since}``, for every responder on duty on this worker."""
        return {d.responder: json.dumps({"name": d.name, "since": d.since}, separators=(",", ":"),
                                        ensure_ascii=False) for d in self.delivery.duty.values()}

    async def beat(self) -> None:
        redis = self.store.redis
        conns_key = keys.conns(self.worker_id)
        duty_key = keys.duty(self.worker_id)
        async with unreachable_is_unavailable("heartbeat"):
            _, has, has_duty = await self._beat(keys=[keys.WORKERS, conns_key, duty_key],
                                                args=[self.worker_id, keys.PRESENCE_TTL_MS])
            if self._beating_since is None:
                self._beating_since = time.monotonic()
            now = self.presence()
            # Our presence vanished: a survivor swept us while we were slow, or Redis lost
            # its data. Either way people here may have been marked disconnected.
            if not has and self._written:
                self._lost = True
            if not has:
                self._written = None
            if not has_duty:
                self._duty_written = None
            duty_now = self.duty()
            changes = [(conns_key, now, self._written or {}), (duty_key, duty_now, self._duty_written or {})]
            if any(current != written for _, current, written in changes):
                async with redis.pipeline(transaction=True) as p:
                    for key, current, written in changes:
                        added = {f: v for f, v in current.items() if written.get(f) != v}
                        gone = [f for f in written if f not in current]
                        if added:
                            p.hset(key, mapping=cast(Any, added))
                        if gone:
                            p.hdel(key, *gone)
                        p.pexpire(key, keys.PRESENCE_TTL_MS)
                    await p.execute()
            self._written = now
            self._duty_written = duty_now
        if self._lost:
            await self._reassert()
            self._lost = False
        await self.store.republish()
        self._uncertain |= self.store.take_uncertain()
        for room in list(self._uncertain):
            await self.delivery.resync(room)
            self._uncertain.discard(room)

    async def on_duty(self) -> list[OnDuty]:
        """Who is on duty on any live worker (the admin API's ``GET /api/oncall/duty``).
        This worker's own duty is read from memory, not from what it last wrote, so that
        a change is seen here at once; other workers' within a heartbeat (they write when
        it changes)."""
        async with unreachable_is_unavailable("on_duty"):
            raw = await self._on_duty(keys=[keys.WORKERS], args=[keys.WORKER_DEAD_MS, keys.duty("")])
        found = list(self.delivery.duty.values())
        for i in range(0, len(raw), 3):
            worker, responder, data = raw[i], raw[i + 1], raw[i + 2]
            if worker == self.worker_id:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                d = json.loads(data)
                found.append(OnDuty(responder=str(responder), name=str(d["name"]), since=int(d["since"])))
        return merge_duty(found)

    async def _reassert(self) -> None:
        """Mark our people connected again where a sweep marked them gone."""
        count = 0
        for room, conn in list(self.delivery.held()):
            if room not in conn.rooms:
                continue
            state = await self.store.load(room)
            p = state.participants.get(conn.who.sub) if state is not None else None
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

    async def sweep(self) -> None:
        """Forever: look for dead workers every second. (Store errors: the heartbeat says
        so; try again next time.)"""
        await every(SWEEP_S, self.sweep_once, "sweep", expected=(StoreUnavailable, rex.RedisError, OSError))

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
                await self._swept(keys=[keys.WORKERS, keys.conns(worker), keys.duty(worker)],
                                  args=[worker, keys.WORKER_DEAD_MS])
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
                p.delete(keys.conns(self.worker_id), keys.duty(self.worker_id))
                await p.execute()
