"""Cross-worker delivery through the Redis bus (format: ``store/bus.py``).

- ``RedisPublisher`` wraps this worker's ``LocalDelivery``. The committing worker
  delivers its own events and notices at once; the commit script has already published
  the events on the bus (atomically with the commit, so a committed batch is always
  published once); this publisher adds the private notices, which are not in the log.
- ``Bus.listen`` is one subscriber per worker. It hands other workers' events to the
  local delivery (whose fan-out orders them by ``seq``, drops duplicates and fills gaps
  from the store's log), their notices to its notice routing, and media signalling to the
  media router. When its connection comes back after a drop, it re-reads, for every
  room this worker has clients in, whatever was committed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Final

from redis import exceptions as rex

from ..core.errors import CommandError
from ..core.model import Event, Notice
from ..delivery import LocalDelivery
from ..media.router import MediaRouter
from ..service import RoomService
from ..store import StoreUnavailable, bus, keys
from ..store.redis import OP_TIMEOUT_S, UNREACHABLE, RedisStore

log = logging.getLogger("circles.cluster")

# A quiet bus connection is pinged this often, and given up for dead (and reopened)
# when nothing at all came back for the second figure: a half-open TCP connection
# would otherwise swallow every message silently.
BUS_PING_S: Final = 1.0
BUS_SILENT_S: Final = 3.0
# Reconnect backoff of the bus listener, from the first figure doubling to the second.
BACKOFF_MIN_S: Final = 0.05
BACKOFF_MAX_S: Final = 2.0


class RedisPublisher:
    """Local delivery first (no hop for this worker's clients), then the bus for notices."""

    def __init__(self, local: LocalDelivery[Any], store: RedisStore) -> None:
        self.local = local
        self.store = store

    async def publish(self, room_id: str, events: Sequence[Event], notices: Sequence[Notice]) -> None:
        await self.local.publish(room_id, events, notices)
        if not notices:
            return
        try:
            message = bus.notices(self.store.origin, notices)
        except (TypeError, ValueError):
            log.exception("notice not serialisable", extra={"room": room_id})
            return
        try:
            async with asyncio.timeout(OP_TIMEOUT_S):
                await self.store.redis.publish(keys.BUS, message)
        except UNREACHABLE as e:
            # Committed, delivered here; others miss these private notices (they are
            # not in the log). Say so; the command itself succeeded.
            log.warning("notices not published", extra={"room": room_id, "count": len(notices),
                                                        "reason": type(e).__name__})


class Bus:
    """This worker's subscription to the bus."""

    def __init__(self, store: RedisStore, service: RoomService, delivery: LocalDelivery[Any], worker_id: str,
                 media: MediaRouter | None = None) -> None:
        self.store = store
        self.service = service
        self.delivery = delivery
        self.worker_id = worker_id
        self.media = media
        self.connected = asyncio.Event()
        # Connected, and what was committed while it was away has been read again.
        self.caught_up = asyncio.Event()

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
                self.connected.set()
                await self._ensure_rooms()
                await self._resync_all()
                self.caught_up.set()
                backoff = BACKOFF_MIN_S
                await self._pump(pubsub)
            except (rex.RedisError, StoreUnavailable, OSError) as e:
                if self.connected.is_set():
                    log.warning("bus connection lost", extra={"reason": type(e).__name__})
            except Exception:  # a bug must not end cross-worker delivery for good
                log.exception("bus listener failed")
            finally:
                self.connected.clear()
                self.caught_up.clear()
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
            msg = bus.parse(data)
            if msg.origin == self.store.origin:
                return  # delivered here already, before it was published
            if msg.kind == bus.EVENTS:
                if self.delivery.wants(msg.to):  # most workers have nobody in most rooms
                    self.delivery.receive(msg.to, msg.events())
            elif msg.kind == bus.NOTICES:
                for n in msg.notices():
                    self.delivery.deliver_notice(n)
            elif msg.kind == bus.MEDIA:
                if msg.to == self.worker_id and self.media is not None:
                    self.media.on_bus(msg.media())
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
        for room in self.delivery.rooms():
            await self.delivery.resync(room)
        self.delivery.media.recheck()
