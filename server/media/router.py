"""Audio across workers: each room's media lives on one worker at a time.

A room's mixer must hear every voice of the room, so all of a room's peer connections
end on one worker: the holder of the room's media lease in Redis (LiveKit's design).
The worker a person's socket is on takes their ``rtc.offer``:

- nobody holds the lease: it takes it (``SET NX``) and answers the offer itself;
- the lease is its own: it answers itself;
- the lease is another worker's: it forwards the offer over the bus (an ``M`` message
  addressed to that worker, ``store/keys.py``) and relays the answer. The client's media
  then flows to the holder's own UDP port; its signalling stays on its socket.

The holder renews its leases every second while it serves the room, and lets go when
its last peer there has closed. If it dies, its leases run out (``MEDIA_LEASE_MS``).
Every worker checks each second that the rooms it forwarded its people's audio to are
still held by the same worker; when one is not, it tells those people ``rtc.restart``
and their next offer lands on the new holder. A holder that finds its own lease gone
(Redis lost it, or the worker stalled past the lease) closes that room's media and tells
its own people the same. An offer forwarded to a holder that does not answer is asked
again until its lease has run out, and is then served by a live worker: a client's
offer never waits on a dead worker for longer than the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final, cast

from redis import exceptions as rex

from ..core.errors import CODES, CommandError
from ..store import StoreUnavailable, bus, keys
from ..store.redis import RedisStore, unreachable_is_unavailable
from ..tasks import TaskSet, every
from .hub import MediaHub

log = logging.getLogger("circles.media")

# The lease is renewed, and forwarded people's holders are checked, this often.
WATCH_S: Final = 1.0
# One forwarded offer waits this long for the holder's answer, then asks again who holds
# the lease (a dead holder's lease runs out within MEDIA_LEASE_MS).
FORWARD_TIMEOUT_S: Final = 2.0
# A client's offer is answered, or refused, within this; the web client waits 10 s.
OFFER_DEADLINE_S: Final = 8.0
# A holder that says "not mine any more" is followed this many times at most.
MAX_HOPS: Final = 5

_ACQUIRE: Final = """
-- KEYS: the room's lease. ARGV: worker id, ttl ms. Returns the holder after the call:
-- this worker if the lease was free (taken now) or already its own (renewed now).
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return cur
"""

_RENEW: Final = """
-- KEYS: leases. ARGV: worker id, ttl ms. 1 for each lease still ours (renewed), else 0.
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then
    redis.call('PEXPIRE', k, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

_RELEASE: Final = """
-- KEYS: the room's lease. ARGV: worker id. Deleted only if it is still ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# notify(room, participant, event, data): a private event to that person's socket here.
Notify = Callable[[str, str, str, dict[str, Any]], None]


class MediaRouter:
    """The gateway's ``Media`` with several workers: routes signalling to the lease holder."""

    def __init__(self, hub: MediaHub, store: RedisStore, worker_id: str,
                 notify: Notify = lambda room, participant, event, data: None,
                 on_restart: Callable[[], None] = lambda: None) -> None:
        self.hub = hub
        self.store = store
        self.worker_id = worker_id
        self._notify = notify
        self._on_restart = on_restart
        # Rooms whose lease this worker holds.
        self.leased: set[str] = set()
        # (room, participant) -> the worker their audio was forwarded to, for people
        # whose socket is here and whose media is elsewhere.
        self.remote: dict[tuple[str, str], str] = {}
        # (room, participant) -> the worker whose socket asked for each peer served here:
        # a close from a socket the person has since left must not end their new audio.
        self.via: dict[tuple[str, str], str] = {}
        # Offers being answered here, per room: the room's lease is kept meanwhile, though
        # the hub has no peer there yet.
        self._answering: dict[str, int] = {}
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks = TaskSet()
        self._acquire = store.redis.register_script(_ACQUIRE)
        self._renew = store.redis.register_script(_RENEW)
        self._release = store.redis.register_script(_RELEASE)

    # -- the Media protocol ---------------------------------------------------------------------

    async def offer(self, room: str, participant: str, sdp: str, type_: str) -> dict[str, Any]:
        if type_ != "offer":
            raise CommandError("invalid", "type must be \"offer\"")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OFFER_DEADLINE_S
        key = (room, participant)
        for _ in range(MAX_HOPS):
            holder = await self._holder(room)
            if holder == self.worker_id:
                self._forward_close(key)  # their audio was elsewhere: end it there
                return await self._serve_offer(room, participant, sdp, type_, via=self.worker_id)
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                reply = await self._call(holder, {"op": "offer", "room": room, "participant": participant,
                                                  "sdp": sdp, "type": type_}, min(FORWARD_TIMEOUT_S, left))
            except TimeoutError:
                log.warning("media holder did not answer", extra={"room": room, "worker": holder})
                continue  # if it is dead, its lease runs out: ask again who holds it
            if reply.get("ok"):
                if self.remote.get(key, holder) != holder:
                    self._forward_close(key)
                await self._close_here(room, participant)  # audio served here before the move
                self.remote[key] = holder
                return {"sdp": reply["sdp"], "type": "answer"}
            code = reply.get("code")
            if code == "moved":
                continue  # it let go meanwhile; ask again
            raise CommandError(code if isinstance(code, str) and code in CODES else "internal",
                               str(reply.get("message") or "audio could not be started"))
        raise CommandError("unavailable", "the audio server for this room did not answer; try again")

    async def close(self, room: str, participant: str) -> None:
        self._forward_close((room, participant))
        await self._close_here(room, participant)

    def on_events(self, room: str, events: Sequence[dict[str, Any]]) -> None:
        self.hub.on_events(room, events)

    def serves(self, room: str) -> bool:
        return self.hub.serves(room)

    def recheck(self) -> None:
        self.hub.recheck()

    async def shutdown(self) -> None:
        await self.hub.shutdown()
        for room in list(self.leased):
            with contextlib.suppress(Exception):
                async with unreachable_is_unavailable("media lease"):
                    await self._release(keys=[keys.media_lease(room)], args=[self.worker_id])
        self.leased.clear()
        await self._tasks.cancel_all()

    # -- the bus ----------------------------------------------------------------------------------

    def on_bus(self, msg: dict[str, Any]) -> None:
        """An ``M`` message addressed to this worker (never raises)."""
        op = msg.get("op")
        if op == "reply":
            fut = self._pending.get(str(msg.get("id")))
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif op in ("offer", "close") and isinstance(msg.get("room"), str) \
                and isinstance(msg.get("participant"), str) and isinstance(msg.get("from"), str):
            self._spawn(self._on_request(msg))

    async def _on_request(self, msg: dict[str, Any]) -> None:
        room, participant, sender = msg["room"], msg["participant"], msg["from"]
        if msg["op"] == "close":
            if self.via.get((room, participant)) == sender:
                await self._close_here(room, participant, via=sender)
            return
        try:
            if await self._holder(room) != self.worker_id:
                reply: dict[str, Any] = {"ok": False, "code": "moved"}
            else:
                answer = await self._serve_offer(room, participant, str(msg.get("sdp")), str(msg.get("type")),
                                                 via=sender)
                reply = {"ok": True, "sdp": answer["sdp"]}
        except CommandError as e:
            reply = {"ok": False, "code": e.code, "message": e.message}
        except Exception:
            log.exception("forwarded offer failed", extra={"room": room})
            reply = {"ok": False, "code": "internal", "message": "something went wrong on our side"}
        with contextlib.suppress(CommandError):
            await self._send(sender, {**reply, "op": "reply", "id": msg.get("id")})

    async def _call(self, worker: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        rid = secrets.token_hex(8)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            await self._send(worker, {**body, "id": rid})
            async with asyncio.timeout(timeout):
                return await fut
        finally:
            self._pending.pop(rid, None)

    async def _send(self, worker: str, body: dict[str, Any]) -> None:
        message = bus.media(self.store.origin, worker, {**body, "from": self.worker_id})
        try:
            async with unreachable_is_unavailable("media signalling"):
                await self.store.redis.publish(keys.BUS, message)
        except StoreUnavailable as e:
            raise CommandError("unavailable", "audio signalling is unavailable; try again") from e

    def _forward_close(self, key: tuple[str, str]) -> None:
        holder = self.remote.pop(key, None)
        if holder is not None:
            self._spawn(self._send_quietly(holder, {"op": "close", "room": key[0], "participant": key[1]}))

    async def _send_quietly(self, worker: str, body: dict[str, Any]) -> None:
        with contextlib.suppress(CommandError):
            await self._send(worker, body)

    # -- serving here -----------------------------------------------------------------------------

    async def _holder(self, room: str) -> str:
        try:
            async with unreachable_is_unavailable("media lease"):
                holder = await self._acquire(keys=[keys.media_lease(room)],
                                             args=[self.worker_id, keys.MEDIA_LEASE_MS])
        except StoreUnavailable as e:
            raise CommandError("unavailable", "audio is unavailable while the store is; try again") from e
        holder = holder.decode() if isinstance(holder, bytes) else str(holder)
        if holder == self.worker_id:
            self.leased.add(room)
        return holder

    async def _serve_offer(self, room: str, participant: str, sdp: str, type_: str, via: str) -> dict[str, Any]:
        self.via[(room, participant)] = via
        self._answering[room] = self._answering.get(room, 0) + 1
        try:
            return await self.hub.offer(room, participant, sdp, type_)
        except BaseException:
            if self.via.get((room, participant)) == via and not self.hub.has_peer(room, participant):
                del self.via[(room, participant)]
            raise
        finally:
            self._answering[room] -= 1
            if not self._answering[room]:
                del self._answering[room]

    def _idle(self, room: str) -> bool:
        """Nobody's audio is served here in this room, nor being set up."""
        return not self.hub.serves(room) and room not in self._answering

    async def _close_here(self, room: str, participant: str, via: str | None = None) -> None:
        if self.via.get((room, participant), self.worker_id) != (via or self.worker_id):
            return  # their audio here now belongs to a newer socket elsewhere
        self.via.pop((room, participant), None)
        await self.hub.close(room, participant)
        if room in self.leased and self._idle(room):
            await self._let_go(room)

    async def _let_go(self, room: str) -> None:
        self.leased.discard(room)
        with contextlib.suppress(StoreUnavailable):
            async with unreachable_is_unavailable("media lease"):
                await self._release(keys=[keys.media_lease(room)], args=[self.worker_id])

    # -- the watch ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Forever: renew this worker's leases, and check on forwarded people's holders.
        (Store errors: the heartbeat says so; a lease that ran out meanwhile is seen next time.)"""
        await every(WATCH_S, self.check, "media watch", expected=(StoreUnavailable, rex.RedisError, OSError))

    async def check(self) -> None:
        # Peers the hub closed by itself (left, failed) need no owner any more.
        for key in [k for k in self.via if not self.hub.has_peer(*k)]:
            del self.via[key]
        rooms = sorted(self.leased)
        if rooms:
            async with unreachable_is_unavailable("media lease"):
                kept = await self._renew(keys=[keys.media_lease(r) for r in rooms],
                                         args=[self.worker_id, keys.MEDIA_LEASE_MS])
            for room, ours in zip(rooms, cast(list[int], kept), strict=True):
                if self._idle(room):
                    await self._let_go(room)
                elif not ours:
                    await self._lost(room)
        watched = sorted({room for room, _ in self.remote})
        if watched:
            async with unreachable_is_unavailable("media lease"):
                found = await self.store.redis.mget([keys.media_lease(r) for r in watched])
            holders = dict(zip(watched, found, strict=True))
            for (room, participant), holder in list(self.remote.items()):
                if holders.get(room) != holder:
                    del self.remote[(room, participant)]
                    log.info("media moved; client re-offers", extra={"room": room})
                    self._restart(room, participant)

    async def _lost(self, room: str) -> None:
        """Our lease is gone: another worker serves (or will serve) this room's audio."""
        self.leased.discard(room)
        local = [pid for (r, pid), via in self.via.items() if r == room and via == self.worker_id]
        for key in [k for k in self.via if k[0] == room]:
            del self.via[key]
        log.warning("media lease lost; closing the room's audio here", extra={"room": room})
        await self.hub.close_room(room)
        for participant in local:
            self._restart(room, participant)

    def _restart(self, room: str, participant: str) -> None:
        """Their audio moved to another worker: their client offers again (to it)."""
        self._on_restart()
        self._notify(room, participant, "rtc.restart", {"room": room, "reason": "moved"})

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._tasks.spawn(coro)
