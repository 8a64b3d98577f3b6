"""The app factory: ``create_app(config)`` wires store, service, gateway and timers.

Every background task lives in a cleanup context that cancels and awaits it on
shutdown; every shared object has a typed key in ``gateway/keys.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
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

from . import cluster
from .clock import Clock, SystemClock
from .config import Config
from .core.model import Event, Notice, Target
from .gateway import http, keys, wsdriver
from .gateway.limits import trusted_networks
from .gateway.schemas import MAX_PAYLOAD_BYTES
from .gateway.socket import SocketGateway
from .media.base import Media
from .media.hub import MediaHub
from .media.router import MediaRouter
from .metrics import Metrics
from .pager import WebhookPager
from .scheduler import Scheduler
from .service import RoomService
from .store import Store
from .store.memory import MemoryStore
from .store.redis import RedisStore
from .tokens import mint

log = logging.getLogger("circles.app")

# A crisis offer carries a token to the on-call room; long enough to use it tonight.
ONCALL_TOKEN_TTL = 6 * 3600
# Time given to saying goodbye to every client on shutdown, within aiohttp's own timeout.
SHUTDOWN_GOODBYE_S = 3.0


class LocalPublisher:
    """One process: committed events go straight to this worker's fan-out."""

    def __init__(self, metrics: Metrics) -> None:
        self.gateway: SocketGateway | None = None
        self.metrics = metrics

    async def publish(self, room_id: str, events: Sequence[Event], notices: Sequence[Notice]) -> None:
        assert self.gateway is not None
        if events:
            self.gateway.receive(room_id, [e.to_wire() for e in events])
        for n in notices:
            self.gateway.deliver_notice(n)


def make_store(config: Config, clock: Clock) -> Store:
    if config.redis_url:
        return RedisStore.from_url(config.redis_url, audit_retention_ms=config.audit_retention_days * 86_400_000)
    return MemoryStore(audit_retention_ms=config.audit_retention_days * 86_400_000, clock=clock)


def _pipelines(config: Config) -> Any:
    base = build_pipeline(config.moderation)
    per_room: dict[str, Pipeline] = {
        spec.id: build_pipeline(config.moderation, spec.moderation)
        for spec in config.rooms if spec.moderation is not None
    }

    def pipeline_for(room: str) -> Pipeline:
        return per_room.get(room, base)

    return pipeline_for, [base, *per_room.values()]


def create_app(config: Config, *, clock: Clock | None = None, store: Store | None = None,
               worker_id: str | None = None, scheduler_poll_ms: int = 1000,
               transports: Sequence[str] | None = None, direct_write: bool = True) -> web.Application:
    clock = clock or SystemClock()
    store = store or make_store(config, clock)
    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    metrics = Metrics()
    origins: Any = list(config.allowed_origins) if config.allowed_origins else None
    if origins == ["*"]:
        origins = "*"
    sio = socketio.AsyncServer(
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
    publisher = LocalPublisher(metrics)
    # Cluster mode: Redis carries committed events and notices between workers.
    redis_store = store if isinstance(store, RedisStore) else None
    if redis_store is not None:
        scheduler_poll_ms = min(scheduler_poll_ms, cluster.SCHEDULER_POLL_MS)
    pipeline_for, pipelines = _pipelines(config)
    scheduler_ref: list[Scheduler] = []
    pager = WebhookPager(store, config.oncall.webhook_url, config.oncall.webhook_secret)

    def oncall_token(sub: str, name: str, room: str, role: str) -> str:
        return mint(config.secret, sub=sub, name=name, role=role, room=room, ttl=ONCALL_TOKEN_TTL)[0]

    service = RoomService(store, clock, cluster.RedisPublisher(publisher, redis_store) if redis_store else publisher,
                          pipeline_for, config.crisis_support(),
                          on_deadline=lambda at: scheduler_ref[0].poke() if at is not None and scheduler_ref else None,
                          observe=metrics.observe, page_webhook=pager.poke, mint_token=oncall_token,
                          max_rooms=config.limits.max_rooms, rooms_made_per_hour=config.limits.rooms_made_per_hour)
    service.configured = {spec.id: (spec.kind, spec.title, spec.settings) for spec in config.rooms}

    async def read_state() -> tuple[int, int]:
        return len(await store.room_ids()), len(await service.waiting())

    metrics.track_state(read_state)
    metrics.watch_pipelines(pipelines)
    hub = MediaHub(service, config.media)
    metrics.media_rooms.set_function(lambda: len(hub.rooms))
    metrics.media_peers.set_function(lambda: sum(len(rm.peers) for rm in hub.rooms.values()))
    # Several workers: each room's audio on one of them, whichever worker a socket is on.
    router = MediaRouter(hub, redis_store, worker_id) if redis_store is not None else None
    media: Media = router or hub
    gateway = SocketGateway(sio, service, config.secret, metrics, worker_id, media=media, limits=config.limits,
                            trusted_proxies=trusted_networks(config.trusted_proxies))
    publisher.gateway = gateway
    if router is not None:
        def tell(room: str, participant: str, event: str, data: dict[str, Any]) -> None:
            if event == "rtc.restart":
                metrics.media_restarts.inc()
            gateway.deliver_notice(Notice(event=event, to=Target(kind="participant", room=room,
                                                                 participant=participant), data=data))
        router.notify = tell
    gateway.register()
    scheduler = Scheduler(store, clock, service.tick, poll_ms=scheduler_poll_ms)
    scheduler_ref.append(scheduler)

    app = web.Application(middlewares=[http.json_errors], client_max_size=64 * 1024)
    app[keys.CONFIG] = config
    app[keys.CLOCK] = clock
    app[keys.STORE] = store
    app[keys.SERVICE] = service
    app[keys.GATEWAY] = gateway
    app[keys.METRICS] = metrics
    app[keys.SCHEDULER] = scheduler
    app[keys.SIO] = sio
    app[keys.WORKER_ID] = worker_id
    sio.attach(app)
    http.add_routes(app)

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        await service.ensure_configured()
        yield
        for p in pipelines:
            await p.close()
        await store.close()

    async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(scheduler.run(), name="circles-scheduler")
        yield
        # Cancel until it is really gone: a library may swallow one cancellation.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def on_shutdown(app: web.Application) -> None:
        # Say goodbye to every client: each disconnect commits (their reconnect grace
        # starts now, not when a sweeper notices), and they reconnect (to another
        # worker, or to this one when it is back) and rejoin with `since`.
        async def goodbye() -> None:
            for sid in list(gateway.conns):
                await sio.disconnect(sid)
            # Engine.IO's websocket writer waits for one more packet after its goodbye;
            # an empty one ends it, which closes the websocket now rather than at
            # aiohttp's shutdown timeout.
            for sock in list(sio.eio.sockets.values()):
                sock.queue.put_nowait(None)

        with contextlib.suppress(Exception):
            await asyncio.wait_for(goodbye(), SHUTDOWN_GOODBYE_S)
        with contextlib.suppress(Exception):
            await sio.shutdown()

    async def gc_ctx(app: web.Application) -> AsyncIterator[None]:
        # gc.callbacks is the process's: added for as long as this app runs.
        callback = metrics.gc_callback()
        gc.callbacks.append(callback)
        yield
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(callback)

    async def pager_ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(pager.run(), name="circles-pager")
        yield
        await cluster.stop([task])
        await pager.close()

    async def media_ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await media.shutdown()

    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.cleanup_ctx.append(pager_ctx)
    app.cleanup_ctx.append(gc_ctx)
    app.cleanup_ctx.append(media_ctx)
    app.on_shutdown.append(on_shutdown)
    if redis_store is not None:
        cluster.setup(app, cluster.Cluster(redis_store, service, gateway, worker_id,
                                           media=router))
    return app
