"""The app factory: ``create_app(config)`` builds the server in a straight line.

Every background task lives in a cleanup context that cancels and awaits it on
shutdown; every shared object has a typed key in ``gateway/keys.py``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import socketio
from aiohttp import web

from moderation.pipeline import Pipeline, build_pipeline

from . import cluster, wsdriver
from .clock import Clock, SystemClock
from .config import Config
from .delivery import LocalDelivery
from .gateway import calendar, formats_http, http, keys
from .gateway.limits import trusted_networks
from .gateway.schemas import MAX_PAYLOAD_BYTES
from .gateway.socket import Connection, SocketGateway, StrictServer
from .media.hub import MediaHub
from .media.router import MediaRouter
from .metrics import Metrics
from .pager import Receiver, WebhookPager
from .scheduler import Scheduler
from .service import RoomService
from .store import Store
from .store.memory import MemoryStore
from .store.redis import RedisStore
from .tasks import TaskSet
from .tokens import mint

log = logging.getLogger("circles.app")

# A crisis offer carries a token to the on-call room; long enough to use it tonight.
ONCALL_TOKEN_TTL = 6 * 3600


def make_store(config: Config, clock: Clock) -> Store:
    if config.redis_url:
        return RedisStore.from_url(config.redis_url, audit_retention_ms=config.audit_retention_days * 86_400_000,
                                   replica_acks=config.redis_replica_acks)
    return MemoryStore(audit_retention_ms=config.audit_retention_days * 86_400_000, clock=clock)


class Pipelines:
    """The moderation pipeline of each room: the deployment's, or a room's own override."""

    def __init__(self, config: Config) -> None:
        self.base = build_pipeline(config.moderation)
        self.per_room: dict[str, Pipeline] = {
            spec.id: build_pipeline(config.moderation, spec.moderation)
            for spec in config.rooms if spec.moderation is not None
        }

    def for_room(self, room: str) -> Pipeline:
        return self.per_room.get(room, self.base)

    def all(self) -> list[Pipeline]:
        return [self.base, *self.per_room.values()]

    async def close(self) -> None:
        for p in self.all():
            await p.close()


def make_sio(config: Config, transports: Sequence[str] | None, direct_write: bool) -> socketio.AsyncServer:
    origins: Any = list(config.allowed_origins) if config.allowed_origins else None
    if origins == ["*"]:
        origins = "*"
    sio = StrictServer(
        async_mode="aiohttp", cors_allowed_origins=origins, logger=False, engineio_logger=False,
        # Engine.IO closes a connection whose message exceeds this; keep it well above
        # our own payload limit so an oversized payload gets a `too_large` ack instead.
        max_http_buffer_size=8 * MAX_PAYLOAD_BYTES,
        ping_interval=20, ping_timeout=20,
        # Several workers on one port (SO_REUSEPORT) cannot serve long-polling: its
        # requests would land on random workers. `circles serve --workers N` passes
        # ["websocket"].
        transports=list(transports) if transports else None,
    )
    wsdriver.install(sio, direct=direct_write, max_bytes=config.limits.send_buffer_bytes)
    return sio


def receivers(config: Config) -> dict[str, Receiver]:
    """Where each kind of webhook call goes: escalations to ``[oncall]``, reminders to
    ``[schedules]``, missed meetings to ``[attendance]`` (each only when configured)."""
    out = {}
    for event, url, secret in (("oncall.escalated", config.oncall.webhook_url, config.oncall.webhook_secret),
                               ("circle.starting", config.schedules.webhook_url, config.schedules.webhook_secret),
                               ("attendance.missed", config.attendance.webhook_url,
                                config.attendance.webhook_secret)):
        if url:
            out[event] = Receiver(url, secret or "")
    return out


def create_app(config: Config, *, clock: Clock | None = None, store: Store | None = None,
               worker_id: str | None = None, scheduler_poll_ms: int = 1000,
               transports: Sequence[str] | None = None, direct_write: bool = True) -> web.Application:
    """Store, then delivery, then the service, then media and the gateway: each built on
    what comes before it; each resource with one cleanup context."""
    clock = clock or SystemClock()
    store = store or make_store(config, clock)
    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    # Cluster mode: Redis carries committed events and notices between workers.
    redis_store = store if isinstance(store, RedisStore) else None
    if redis_store is not None:
        scheduler_poll_ms = min(scheduler_poll_ms, cluster.SCHEDULER_POLL_MS)
    metrics = Metrics()
    sio = make_sio(config, transports, direct_write)
    pipelines = Pipelines(config)
    pager = WebhookPager(store, receivers(config))
    scheduler = Scheduler(store, clock, poll_ms=scheduler_poll_ms)

    delivery: LocalDelivery[Connection] = LocalDelivery(store, worker_id, clock, disconnect=sio.disconnect,
                                                        on_delivered=metrics.deliveries.inc)
    service = RoomService(store, clock, cluster.RedisPublisher(delivery, redis_store) if redis_store else delivery,
                          pipelines.for_room, config.crisis_support(), on_deadline=scheduler.poke,
                          observe=metrics.observe, page_webhook=pager.poke,
                          mint_token=functools.partial(oncall_token, config.secret),
                          max_rooms=config.limits.max_rooms, rooms_made_per_hour=config.limits.rooms_made_per_hour,
                          configured={spec.id: (spec.kind, spec.title, spec.settings) for spec in config.rooms},
                          attendance=config.attendance if config.attendance.enabled else None)
    hub = MediaHub(service, config.media)
    # Several workers: each room's audio on one of them, whichever worker a socket is on.
    router = MediaRouter(hub, redis_store, worker_id, notify=delivery.tell,
                         on_restart=metrics.media_restarts.inc) if redis_store is not None else None
    # The media layer is built on the service, which is built on this delivery: handed
    # over once it exists (the one step that cannot be in the constructor).
    delivery.use_media(router or hub)
    gateway = SocketGateway(sio, service, delivery, config.secret, metrics, limits=config.limits,
                            trusted_proxies=trusted_networks(config.trusted_proxies), turn_config=config.media)
    gateway.register()
    metrics.track_state(service.counts)
    metrics.watch_pipelines(pipelines.all())
    metrics.media_rooms.set_function(hub.room_count)
    metrics.media_peers.set_function(hub.peer_count)

    app = web.Application(middlewares=[http.json_errors], client_max_size=64 * 1024)
    app[keys.CONFIG] = config
    app[keys.STORE] = store
    app[keys.SERVICE] = service
    app[keys.DELIVERY] = delivery
    app[keys.GATEWAY] = gateway
    app[keys.METRICS] = metrics
    app[keys.SIO] = sio
    the_cluster = cluster.Cluster(redis_store, service, delivery, worker_id,
                                  media=router) if redis_store is not None else None
    app[keys.DUTY] = the_cluster.presence if the_cluster is not None else delivery
    sio.attach(app)
    http.add_routes(app)
    calendar.add_routes(app)
    formats_http.add_routes(app)

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        await service.ensure_configured()
        yield
        await pipelines.close()
        await store.close()

    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        tasks = TaskSet()
        tasks.spawn(scheduler.run(service.tick), name="circles-scheduler")
        tasks.spawn(pager.run(), name="circles-pager")
        yield
        await tasks.cancel_all()
        await pager.close()

    async def gc_ctx(app: web.Application) -> AsyncIterator[None]:
        # gc.callbacks is the process's: added for as long as this app runs.
        callback = metrics.gc_callback()
        gc.callbacks.append(callback)
        yield
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(callback)

    async def media_ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await delivery.media.shutdown()

    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(background_ctx)
    app.cleanup_ctx.append(gc_ctx)
    app.cleanup_ctx.append(media_ctx)
    app.on_shutdown.append(functools.partial(say_goodbye, sio, gateway))
    if the_cluster is not None:
        cluster.setup(app, the_cluster)
    return app


def oncall_token(secret: str, sub: str, name: str, room: str, role: str) -> str:
    """A crisis offer's token to the on-call room."""
    return mint(secret, sub=sub, name=name, role=role, room=room, ttl=ONCALL_TOKEN_TTL)[0]


async def say_goodbye(sio: socketio.AsyncServer, gateway: SocketGateway, app: web.Application) -> None:
    """On shutdown (SIGTERM), drain: commands under way commit, every client is told and
    disconnected (each disconnect commits: their reconnect grace starts now, not when a
    sweeper notices), and they reconnect (to another worker, or to this one when it is
    back) and rejoin with `since`."""
    with contextlib.suppress(Exception):
        await gateway.drain()
    # Engine.IO's websocket writer waits for one more packet after its goodbye; an empty
    # one ends it, which closes the websocket now rather than at aiohttp's shutdown timeout.
    for sock in list(sio.eio.sockets.values()):
        with contextlib.suppress(Exception):
            sock.queue.put_nowait(None)
    with contextlib.suppress(Exception):
        await sio.shutdown()
