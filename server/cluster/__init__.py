"""Many workers, one server: cross-worker delivery, presence and failover through Redis.

Built on the one-worker pieces, not beside them (LiveKit's ``RedisRouter`` embeds its
``LocalRouter``): ``bus.RedisPublisher`` wraps this worker's ``LocalDelivery``,
``bus.Bus`` feeds other workers' commits into it, ``presence.Presence`` keeps the record
of who is held where and sweeps dead workers, and audio signalling for a room goes to
the one worker holding its media lease (``media/router.py``). None of them knows the
gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

from aiohttp import web

from ..delivery import LocalDelivery
from ..media.router import MediaRouter
from ..service import RoomService
from ..store.redis import RedisStore
from ..tasks import TaskSet
from .bus import Bus, RedisPublisher
from .presence import Presence
from .status import StoreStatus

__all__ = ["CLUSTER", "SCHEDULER_POLL_MS", "Bus", "Cluster", "Presence", "RedisPublisher", "setup"]

# Other workers set deadlines this one hears nothing of: look at the timers this often.
SCHEDULER_POLL_MS: Final = 150


class Cluster:
    """This worker's part in the cluster: the bus, presence, and the media leases."""

    def __init__(self, store: RedisStore, service: RoomService, delivery: LocalDelivery[Any], worker_id: str,
                 media: MediaRouter | None = None) -> None:
        self.bus = Bus(store, service, delivery, worker_id, media)
        self.status = StoreStatus(delivery, self.bus.caught_up.is_set)
        self.presence = Presence(store, service, delivery, worker_id, self.status)
        self.media = media
        self._tasks = TaskSet()

    def start(self) -> None:
        self._tasks.spawn(self.bus.listen(), name="circles-bus")
        self._tasks.spawn(self.presence.heartbeat(), name="circles-heartbeat")
        self._tasks.spawn(self.presence.sweep(), name="circles-sweeper")
        if self.media is not None:
            self._tasks.spawn(self.media.run(), name="circles-media-leases")

    async def stop(self) -> None:
        await self._tasks.cancel_all()
        await self.presence.leave()


CLUSTER: Final = web.AppKey("cluster", Cluster)


def setup(app: web.Application, cluster: Cluster) -> None:
    """Run the cluster's background tasks for as long as the app runs."""
    app[CLUSTER] = cluster

    async def cluster_ctx(app: web.Application) -> AsyncIterator[None]:
        cluster.start()
        yield
        await cluster.stop()

    app.cleanup_ctx.append(cluster_ctx)
